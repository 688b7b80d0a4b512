"""``RandomCircularShift``: move a clip's content by one random offset."""
from __future__ import annotations
from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomCircularShift(BaseTransform):
    """Shift every frame of a clip by the same random offset, wrapping.

    A fine-tune of a few hundred videos can fit its train videos by where
    the object is, which says nothing of an action; features pretrained by
    instance discrimination encode that place (docs/recipe_rules.md). A
    shift drawn per clip moves the whole content to a random place and
    keeps every pixel and every motion: what leaves one edge comes back
    at the other, so there is no border to learn, and the same offset on
    every frame leaves the motion between frames as it was.
    ``RandomResizedCrop`` moves content too, but only by the margin its
    crop leaves (about a fifth of the frame at ``area_range=(0.4, 1)``).

    Place it after ``DecordDecode`` and before the crop. For videos whose
    borders do not meet (real footage) the wrap adds one seam, fixed over
    the clip.

    Required keys: ``imgs`` (list of HxWxC arrays). Modified keys: ``imgs``.

    Args:
        max_ratio (float): Largest shift as a fraction of the frame's
            height and width, in (0, 1]; 1 puts the content anywhere.
            Defaults to 1.
        prob (float): Probability that a clip is shifted. 0 turns the
            transform off (``tools/demo.py`` does so for a fine-tune from
            random init, where it stalled a fine-tune). Defaults to 1.
    """

    def __init__(self, max_ratio: float = 1.0, prob: float = 1.0) -> None:
        if not 0 < max_ratio <= 1:
            raise ValueError('RandomCircularShift: max_ratio must be in '
                             f'(0, 1], got {max_ratio}')
        if not 0 <= prob <= 1:
            raise ValueError(
                f'RandomCircularShift: prob must be in [0, 1], got {prob}')
        self.max_ratio = max_ratio
        self.prob = prob

    def transform(self, results: Dict) -> Dict:
        """Roll ``results['imgs']`` by one (dy, dx) for the whole clip."""
        # prob 0 draws nothing and prob 1 only the offsets, so a pipeline
        # with the transform off draws exactly as one without it.
        if self.prob == 0 or (self.prob < 1 and np.random.rand() >= self.prob):
            return results
        height, width = results['imgs'][0].shape[:2]
        # Offsets in [0, ratio * size): 0 is no shift, size - 1 is one pixel
        # the other way round.
        span_y = max(1, round(self.max_ratio * height))
        span_x = max(1, round(self.max_ratio * width))
        shift_y, shift_x = np.random.randint(span_y), np.random.randint(span_x)
        results['imgs'] = [
            np.roll(frame, (shift_y, shift_x), axis=(0, 1))
            for frame in results['imgs']
        ]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(max_ratio={self.max_ratio}, '
                f'prob={self.prob})')
