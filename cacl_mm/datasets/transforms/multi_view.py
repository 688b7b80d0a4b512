"""``MultiViewClip``: independently augmented views of one decoded clip."""
from __future__ import annotations
import copy
from typing import Dict, List

import numpy as np
from mmcv.transforms import BaseTransform, Compose

from mmaction.registry import TRANSFORMS


@TRANSFORMS.register_module()
class MultiViewClip(BaseTransform):
    """Apply a clip-level augmentation pipeline ``num_views`` times.

    MMAction2's spatial transforms (``RandomResizedCrop``, ``Flip``,
    ``ColorJitter`` ...) already draw one set of parameters per clip and
    apply it to every frame, so each view is augmented consistently over
    time while the views differ from each other. The frames are decoded once,
    before this wrapper; every view but the last works on its own copy of the
    frames because some transforms (``Flip``) work in place.

    Each view pipeline must end in ``FormatShape(input_format='NCTHW')``; the
    views are stacked so that ``results['imgs']`` has shape
    (num_views, C, T, H, W) and ``PackActionInputs`` can pack it unchanged.

    Args:
        transforms (list[dict]): The per-view pipeline.
        num_views (int): Number of views. Defaults to 2.
    """

    def __init__(self, transforms: List[dict], num_views: int = 2) -> None:
        if num_views < 1:
            raise ValueError(
                f'MultiViewClip: num_views must be >= 1, got {num_views}')
        self.num_views = num_views
        # Built from mmaction's registry, so no default scope is needed.
        self.pipeline = Compose([
            TRANSFORMS.build(t) if isinstance(t, dict) else t
            for t in transforms
        ])

    def transform(self, results: Dict) -> Dict:
        """Return ``results`` with stacked views in ``imgs``."""
        frames = results['imgs']
        num_clips = int(results.get('num_clips', 1))
        if num_clips not in (1, self.num_views):
            raise ValueError(
                f'MultiViewClip(num_views={self.num_views}) got '
                f'{num_clips} clips per sample: sample 1 clip (every view '
                'augments the same frames) or one clip per view '
                f'(SampleFrames num_clips={self.num_views})')
        per_view = len(frames) // num_clips
        views = []
        for index in range(self.num_views):
            last = index == self.num_views - 1
            view = results if last else copy.copy(results)
            if num_clips > 1:  # view i reads clip i (another time window)
                view['imgs'] = frames[index * per_view:(index + 1) * per_view]
                view['num_clips'] = 1
            if not last:
                view['imgs'] = [np.array(img) for img in view['imgs']]
            view = self.pipeline(view)
            if view is None:
                raise RuntimeError(f'MultiViewClip: view {index} pipeline '
                                   'returned None')
            views.append(view)
        clips = [np.asarray(view['imgs']) for view in views]
        shapes = {clip.shape for clip in clips}
        if len(shapes) != 1 or clips[0].ndim != 5 or clips[0].shape[0] != 1:
            raise ValueError(
                'MultiViewClip: every view must end as one NCTHW clip of the '
                'same shape (end the view pipeline with a fixed-size Resize '
                f"and FormatShape('NCTHW')); got {[c.shape for c in clips]}")
        merged = views[-1]
        merged['imgs'] = np.concatenate(clips, axis=0)
        return merged

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_views={self.num_views}, '
                f'pipeline={self.pipeline})')
