"""Upper bounds on reading the edit-distance class from what a head sees.

Used by ``tools/med_bounds.py``. Shuffles are drawn as ``ShuffleByMED``
draws them (distance uniform, then a permutation of exactly that distance);
each bound is an accuracy on held-out draws.
"""
from __future__ import annotations
from collections import Counter, defaultdict
from typing import Dict, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

from ..datasets.transforms import MEDPermutationSampler
from ..evaluation.probes import fit_classifier
from ..utils.edit_distance import med_to_label


def draw_shuffles(clip_len: int, count: int,
                  seed: int) -> Tuple[np.ndarray, np.ndarray]:
    """(count, T) permutations and their (count,) distance classes."""
    sampler = MEDPermutationSampler(clip_len, np.random.default_rng(seed))
    perms, labels = [], []
    for _ in range(count):
        distance = sampler.draw_distance()
        perms.append(sampler.permutation(distance))
        labels.append(med_to_label(distance))
    return np.stack(perms), np.asarray(labels)


def clip_statistics(perm: np.ndarray) -> Tuple[int, int, int]:
    """Number of jumps, their total size, number of backward jumps."""
    steps = np.diff(perm) - 1
    return (int(
        (steps != 0).sum()), int(np.abs(steps).sum()), int((steps < -1).sum()))


def lookup_accuracy(train: Tuple[np.ndarray, np.ndarray],
                    test: Tuple[np.ndarray, np.ndarray]) -> float:
    """Held-out accuracy of the most frequent class per statistics tuple."""
    votes: Dict[tuple, Counter] = defaultdict(Counter)
    for perm, label in zip(*train):
        votes[clip_statistics(perm)][int(label)] += 1
    fallback = Counter(train[1].tolist()).most_common(1)[0][0]
    hits = []
    for perm, label in zip(*test):
        seen = votes.get(clip_statistics(perm))
        hits.append((seen.most_common(1)[0][0] if seen else fallback) == label)
    return float(np.mean(hits))


def check_slots(clip_len: int, slots: Sequence[int]) -> None:
    """Raise ValueError unless every slot count divides ``clip_len``."""
    bad = [s for s in slots if s < 1 or clip_len % s]
    if bad:
        raise ValueError(f'slots {bad} must divide clip_len={clip_len}')


def permutation_matrices(perms: np.ndarray, slots: int) -> torch.Tensor:
    """(N, T) permutations -> (N, slots * slots) merged permutation
    matrices (entry (s, t): share of slot s's frames that the twin shows in
    slot t)."""
    count, clip_len = perms.shape
    check_slots(clip_len, [slots])
    matrix = torch.zeros(count, clip_len, clip_len)
    matrix[torch.arange(count)[:, None],
           torch.from_numpy(perms),
           torch.arange(clip_len)[None]] = 1
    merge = clip_len // slots
    matrix = matrix.view(count, slots, merge, slots, merge).sum((2, 4))
    return (matrix / merge).flatten(1)


def mlp_accuracy(train: Tuple[np.ndarray, np.ndarray], test: Tuple[np.ndarray,
                                                                   np.ndarray],
                 slots: int, epochs: int, seed: int) -> float:
    """Held-out accuracy of an MLP trained on merged permutation
    matrices."""
    num_classes = train[0].shape[1]
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        mlp = nn.Sequential(
            nn.Linear(slots * slots, 256), nn.ReLU(), nn.Linear(256, 256),
            nn.ReLU(), nn.Linear(256, num_classes))
    result = fit_classifier(
        mlp,
        (permutation_matrices(train[0], slots), torch.from_numpy(train[1])),
        (permutation_matrices(test[0], slots), torch.from_numpy(test[1])),
        epochs=epochs,
        lr=1e-3,
        batch_size=256,
        standardise=False,
        seed=seed)
    return result['test_acc']


def measure(clip_len: int, slots: Sequence[int], num_train: int, num_test: int,
            epochs: int, seed: int) -> Dict[str, float]:
    """Every bound; keys ``chance``, ``clip_statistics``, ``slots_S``."""
    check_slots(clip_len, slots)  # before the draws, which take a minute
    train = draw_shuffles(clip_len, num_train, seed)
    test = draw_shuffles(clip_len, num_test, seed + 1)
    results = dict(
        chance=1.0 / clip_len, clip_statistics=lookup_accuracy(train, test))
    for count in slots:
        print(f'MLP on {count} x {count} permutation matrices ...', flush=True)
        results[f'slots_{count}'] = mlp_accuracy(train, test, count, epochs,
                                                 seed)
    return results
