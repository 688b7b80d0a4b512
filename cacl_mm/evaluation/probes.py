"""Linear probes: how much of the class a fixed representation carries.

:func:`fit_classifier` is the one loop that fits a classifier on fixed
inputs; the linear probes here, the edit-distance readouts
(``analysis/sdp_readout.py``) and the permutation bounds
(``analysis/med_bounds.py``) all train through it.

The linear probe serves three questions:

* the **single-frame** and **mean-frame** probes ask whether a static
  image (one frame, or the average of a video's frames) reveals the class;
  on a motion benchmark both must stay near chance;
* the **frozen-feature** probe asks how linearly separable the classes are
  in a pretrained backbone's features (train split -> test split), the
  linear-evaluation protocol of self-supervised learning.
"""
from __future__ import annotations
import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

#: (M, F) inputs and (M,) integer labels.
Split = Tuple[torch.Tensor, torch.Tensor]


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 accuracy of (M, C) logits against (M,) labels."""
    return float((logits.argmax(dim=1) == labels).float().mean())


def fit_classifier(classifier: nn.Module,
                   train: Split,
                   test: Split,
                   epochs: int,
                   lr: float,
                   weight_decay: float = 0.0,
                   batch_size: Optional[int] = None,
                   optimizer: str = 'adam',
                   standardise: bool = True,
                   seed: int = 0) -> Dict[str, float]:
    """Train ``classifier`` with cross-entropy on fixed inputs; score both
    splits after the last epoch (nothing is chosen on the test split).

    The caller initialises the classifier; this loop owns everything else.

    Args:
        classifier (nn.Module): (M, F) inputs -> (M, C) logits.
        train (Split): Training inputs and labels.
        test (Split): Test (held-out) inputs and labels.
        epochs (int): Passes over the training inputs.
        lr (float): Learning rate.
        weight_decay (float): The optimizer's weight decay.
        batch_size (int, optional): Mini-batch size; None: one full batch
            per epoch.
        optimizer (str): ``'adam'`` or ``'adamw'``.
        standardise (bool): Standardise the inputs with the training
            split's mean and standard deviation.
        seed (int): Seed of the mini-batch order.

    Returns:
        dict: ``train_acc`` and ``test_acc`` in [0, 1].
    """
    (train_x, train_y), (test_x, test_y) = train, test
    if standardise:
        mean, std = train_x.mean(0), train_x.std(0) + 1e-6
        train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    optimizers = dict(adam=torch.optim.Adam, adamw=torch.optim.AdamW)
    if optimizer not in optimizers:
        raise ValueError(f"optimizer must be 'adam' or 'adamw', got "
                         f'{optimizer!r}')
    optim = optimizers[optimizer](
        classifier.parameters(), lr=lr, weight_decay=weight_decay)
    generator = torch.Generator().manual_seed(seed)
    classifier.train()
    with torch.enable_grad():
        for _ in range(epochs):
            batches = [slice(None)] if batch_size is None else torch.randperm(
                len(train_y), generator=generator).split(batch_size)
            for index in batches:
                loss = F.cross_entropy(
                    classifier(train_x[index]), train_y[index])
                optim.zero_grad()
                loss.backward()
                optim.step()
    classifier.eval()
    with torch.no_grad():
        return dict(
            train_acc=accuracy(classifier(train_x), train_y),
            test_acc=accuracy(classifier(test_x), test_y))


def fit_linear_probe(train_x: np.ndarray,
                     train_y: np.ndarray,
                     test_x: np.ndarray,
                     test_y: np.ndarray,
                     epochs: int = 300,
                     lr: float = 1e-2,
                     weight_decay: float = 1e-3,
                     seed: int = 0) -> Dict[str, float]:
    """Softmax regression on standardised features, full batch, Adam.

    Args:
        train_x (np.ndarray): (N, D) training features.
        train_y (np.ndarray): (N,) integer labels.
        test_x (np.ndarray): (M, D) test features.
        test_y (np.ndarray): (M,) integer labels.
        epochs (int): Optimisation steps over the whole training set.
        lr (float): Adam learning rate.
        weight_decay (float): L2 penalty (Adam's).
        seed (int): Seed of the classifier's initialisation.

    Returns:
        dict: ``train_acc``, ``test_acc`` and ``chance`` (1 / classes), in
        [0, 1].
    """
    xt = torch.from_numpy(np.asarray(train_x, np.float32))
    xv = torch.from_numpy(np.asarray(test_x, np.float32))
    yt = torch.as_tensor(np.asarray(train_y), dtype=torch.long)
    yv = torch.as_tensor(np.asarray(test_y), dtype=torch.long)
    num_classes = int(max(yt.max(), yv.max())) + 1
    probe = nn.Linear(xt.shape[1], num_classes)
    with torch.no_grad():  # small random weights, zero bias
        generator = torch.Generator().manual_seed(seed)
        probe.weight.copy_(
            torch.randn(xt.shape[1], num_classes, generator=generator).T *
            0.01)
        probe.bias.zero_()
    result = fit_classifier(
        probe, (xt, yt), (xv, yv),
        epochs=epochs,
        lr=lr,
        weight_decay=weight_decay,
        seed=seed)
    return dict(result, chance=1.0 / num_classes)


def video_thumbnails(path: str, num_frames: int, size: int = 16) -> np.ndarray:
    """``num_frames`` uniformly spaced frames as (F, size*size*3) float32."""
    import cv2
    import decord
    reader = decord.VideoReader(path)
    index = np.linspace(0, len(reader) - 1, num_frames).round().astype(int)
    frames = reader.get_batch(index.tolist()).asnumpy()
    small = [
        cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA)
        for f in frames
    ]
    return np.stack(small).reshape(num_frames, -1).astype(np.float32)


def read_video_list(list_file: str) -> List[Tuple[str, int]]:
    """``(relative path, label)`` of each line of an MMAction2 list."""
    with open(list_file) as f:
        return [(rel, int(label))
                for rel, label in (line.split() for line in f if line.strip())]


def frame_probe(video_root: str,
                train_list: str,
                test_list: str,
                mode: str = 'single',
                frames_per_video: int = 6,
                seed: int = 0) -> Dict[str, float]:
    """How well a static image predicts the class (should be near chance).

    Args:
        video_root (str): Folder the list paths are relative to.
        train_list (str): MMAction2 list of train videos.
        test_list (str): MMAction2 list of test videos.
        mode (str): ``'single'``: each of ``frames_per_video`` frames is a
            sample; ``'mean'``: the average of 16 uniformly spaced frames is
            the video's one sample.
        frames_per_video (int): Frames per video in ``'single'`` mode.
        seed (int): Seed of the classifier.

    Returns:
        dict: ``train_acc``, ``test_acc``, ``chance`` (16x16 RGB
        thumbnails, :func:`fit_linear_probe`).
    """
    if mode not in ('single', 'mean'):
        raise ValueError(f"mode must be 'single' or 'mean', got {mode!r}")

    def load(list_file: str) -> Tuple[np.ndarray, np.ndarray]:
        feats, labels = [], []
        for rel, label in read_video_list(list_file):
            path = osp.join(video_root, rel)
            if mode == 'single':
                feats.append(video_thumbnails(path, frames_per_video))
                labels.extend([label] * frames_per_video)
            else:
                feats.append(video_thumbnails(path, 16).mean(0, keepdims=True))
                labels.append(label)
        return np.concatenate(feats), np.array(labels)

    train_x, train_y = load(train_list)
    test_x, test_y = load(test_list)
    return fit_linear_probe(train_x, train_y, test_x, test_y, seed=seed)


def frozen_feature_probe(features_file: str,
                         seed: int = 0) -> Dict[str, float]:
    """Linear probe on saved backbone features: train split -> test split.

    Args:
        features_file (str): ``retrieval_features.npz`` written by
            ``tools/retrieval.py --save-features`` (gallery = train split,
            queries = test split, with labels).
        seed (int): Seed of the classifier.

    Returns:
        dict: ``train_acc``, ``test_acc``, ``chance``.
    """
    data = np.load(features_file)
    return fit_linear_probe(
        data['gallery_features'],
        data['gallery_labels'],
        data['query_features'],
        data['query_labels'],
        seed=seed)
