"""Minimum edit (Levenshtein) distance between frame orders.

CACL's shuffle-degree target is the Levenshtein distance between the original
frame order ``0..T-1`` and the shuffled order. Two implementations live here:

* :func:`levenshtein`: the textbook dynamic programme, the reference.
* :func:`distance_to_identity`: Myers' bit-parallel algorithm (Hyyro's
  formulation for global distance), vectorised over a batch of permutations
  with numpy. Because the pattern is the identity, the match mask of frame
  index ``c`` is simply ``1 << c``. Each of the ``T`` columns costs a dozen
  array operations for the whole batch instead of ``T`` Python-level cell
  updates per permutation, which is what makes exact MED sampling cheap.
"""
from __future__ import annotations
from functools import lru_cache
from typing import Sequence, Tuple

import numpy as np

# Widest clip handled with machine words; wider clips use Python integers
# (object arrays), which are exact at any width but slower.
_MAX_WORD_BITS = 64


def levenshtein(source: Sequence, target: Sequence) -> int:
    """Unit-cost Levenshtein distance (insert, delete, substitute).

    Args:
        source (Sequence): First sequence.
        target (Sequence): Second sequence.

    Returns:
        int: The minimum number of edits turning ``source`` into ``target``.
    """
    previous = list(range(len(target) + 1))
    for i, item in enumerate(source, start=1):
        current = [i] + [0] * len(target)
        for j, other in enumerate(target, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (item != other))
        previous = current
    return previous[-1]


def distance_to_identity(perms: np.ndarray) -> np.ndarray:
    """Levenshtein distance of each row of ``perms`` to ``0..T-1``.

    Args:
        perms (np.ndarray): Integer array of shape (B, T); every row is a
            permutation of ``0..T-1``.

    Returns:
        np.ndarray: int64 array of shape (B,) with the distances.
    """
    perms = np.asarray(perms)
    if perms.ndim != 2:
        raise ValueError(f'perms must have shape (B, T), got {perms.shape}')
    batch, length = perms.shape
    if length == 0:
        return np.zeros(batch, dtype=np.int64)
    if length <= _MAX_WORD_BITS:
        dtype, mask = np.uint64, np.uint64((1 << length) - 1)
        one, top = np.uint64(1), np.uint64(length - 1)
        eq_masks = np.left_shift(one, perms.astype(np.uint64))
    else:
        dtype, mask, one, top = object, (1 << length) - 1, 1, length - 1
        eq_masks = np.frompyfunc(lambda c: 1 << int(c), 1, 1)(perms)

    vp = np.full(batch, mask, dtype=dtype)  # vertical +1 deltas
    vn = np.zeros(batch, dtype=dtype)  # vertical -1 deltas
    score = np.full(batch, length, dtype=np.int64)
    for col in range(length):
        eq = eq_masks[:, col]
        xv = eq | vn
        xh = (((eq & vp) + vp) & mask ^ vp) | eq
        hp = vn | (~(xh | vp) & mask)
        hn = vp & xh
        score += ((hp >> top) & one).astype(np.int64)
        score -= ((hn >> top) & one).astype(np.int64)
        # Global distance: the first row grows by one per column, so a +1
        # horizontal delta enters at the bottom bit.
        hp = ((hp << one) | one) & mask
        hn = (hn << one) & mask
        vp = hn | (~(xv | hp) & mask)
        vn = hp & xv
    return score


@lru_cache(maxsize=None)
def reachable_distances(clip_len: int) -> Tuple[int, ...]:
    """The distances a permutation of ``clip_len`` frames can have.

    A single edit cannot turn a permutation into another one (a substitution
    duplicates a frame, an insertion or deletion changes the length), so 1 is
    never reachable. Exhaustive enumeration (see the tests) shows every
    other value up to ``T`` is reachable except for ``T = 3``, where every
    derangement is a rotation and costs 2 (delete one frame, insert it
    elsewhere).

    Args:
        clip_len (int): Number of frames T (>= 2).

    Returns:
        tuple[int]: Sorted reachable distances.
    """
    if clip_len < 2:
        raise ValueError(f'clip_len must be >= 2, got {clip_len}')
    if clip_len == 3:
        return (0, 2)
    return (0, ) + tuple(range(2, clip_len + 1))


def med_to_label(med: int) -> int:
    """Class index of a distance: 0 -> 0 and d >= 2 -> d - 1 (T classes)."""
    if med == 1 or med < 0:
        raise ValueError(f'{med} is not a permutation edit distance')
    return 0 if med == 0 else med - 1


def label_to_med(label: int) -> int:
    """Inverse of :func:`med_to_label`."""
    return 0 if label == 0 else label + 1
