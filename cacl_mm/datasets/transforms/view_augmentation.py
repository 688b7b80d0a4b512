"""``DrawViewAugmentations``: draw each view's augmentation, apply it later.

The CPU-side half of the batched view augmentation: a data worker draws the
parameters of every view (MMAction2's ``Resize`` + ``RandomResizedCrop`` +
``Resize`` + ``Flip`` + ``RandomApply(ColorJitter)`` + grayscale, the
paper's views) and ships the decoded clip once, as uint8.
:class:`~cacl_mm.models.data_preprocessors.ViewAugmentDataPreprocessor`
applies them to the whole batch on the model's device.
"""
from __future__ import annotations
from typing import Dict, List, Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.datasets.transforms import ColorJitter, RandomResizedCrop
from mmaction.registry import TRANSFORMS
from ...utils.view_augmentation_rows import VIEW_AUGMENTATION_FIELDS

__all__ = ['DrawViewAugmentations', 'VIEW_AUGMENTATION_FIELDS']


@TRANSFORMS.register_module()
class DrawViewAugmentations(BaseTransform):
    """Draw ``num_views`` independent view augmentations of one clip.

    Each view gets what MMAction2's per-view pipeline would draw, from the
    same random sources (``RandomResizedCrop.get_crop_bbox``, numpy's
    global generator), so the distributions are MMAction2's:

    * resize so that the short side is ``resize_scale`` (``Resize`` with
      ``keep_ratio``; ``None`` keeps the decoded size);
    * a crop of ``area_range`` x ``aspect_ratio_range``
      (``RandomResizedCrop``), resized to ``out_size``;
    * a horizontal flip with probability ``flip_ratio``;
    * with probability ``jitter_prob``, colour jitter of brightness,
      contrast, saturation and hue (``ColorJitter``'s ranges), in an order
      drawn per clip. MMAction2's ``ColorJitter`` draws its order once, when
      it is built, so a whole run uses one order; torchvision's (the
      released CACL code's) draws it per call, as here;
    * with probability ``grayscale_prob``, grayscale.

    Every frame of a view gets the same parameters. The decoded frames are
    not touched: ``results['imgs']`` stays one clip.

    Required keys: ``img_shape``. Added keys: ``view_augmentations``,
    a (num_views, 19) float32 array (:data:`VIEW_AUGMENTATION_FIELDS`).

    Args:
        num_views (int): Views per clip. Defaults to 2.
        resize_scale (tuple[int, int], optional): ``Resize`` scale with
            ``keep_ratio=True`` before the crop, e.g. ``(-1, 128)``.
        area_range (tuple[float, float]): Crop area fraction range.
        aspect_ratio_range (tuple[float, float]): Crop aspect ratio range.
        out_size (int | tuple[int, int]): (w, h) of every view.
        flip_ratio (float): Probability of a horizontal flip.
        jitter_prob (float): Probability of the colour jitter.
        brightness, contrast, saturation, hue: ``ColorJitter``'s ranges.
        grayscale_prob (float): Probability of grayscale.
    """

    def __init__(self,
                 num_views: int = 2,
                 resize_scale: Optional[Tuple[int, int]] = None,
                 area_range: Tuple[float, float] = (0.08, 1.0),
                 aspect_ratio_range: Tuple[float, float] = (3 / 4, 4 / 3),
                 out_size: Union[int, Tuple[int, int]] = 112,
                 flip_ratio: float = 0.5,
                 jitter_prob: float = 0.8,
                 brightness: Union[float, Sequence[float]] = 0.4,
                 contrast: Union[float, Sequence[float]] = 0.4,
                 saturation: Union[float, Sequence[float]] = 0.4,
                 hue: Union[float, Sequence[float]] = 0.1,
                 grayscale_prob: float = 0.2) -> None:
        if num_views < 1:
            raise ValueError(f'DrawViewAugmentations: num_views must be >= '
                             f'1, got {num_views}')
        for name, p in (('flip_ratio', flip_ratio),
                        ('jitter_prob', jitter_prob), ('grayscale_prob',
                                                       grayscale_prob)):
            if not 0 <= p <= 1:
                raise ValueError(f'DrawViewAugmentations: {name} must be in '
                                 f'[0, 1], got {p}')
        self.num_views = num_views
        self.resize_scale = (None
                             if resize_scale is None else tuple(resize_scale))
        # Resize's own reading of (-1, s): short side s, any long side
        self._rescale = None
        if resize_scale is not None:
            short, long = min(resize_scale), max(resize_scale)
            self._rescale = (np.inf, long) if short == -1 else (long, short)
        # floats: MMAction2's RandomResizedCrop refuses (0.2, 1)
        self.area_range = tuple(float(v) for v in area_range)
        self.aspect_ratio_range = tuple(float(v) for v in aspect_ratio_range)
        self.out_size = ((out_size, out_size)
                         if isinstance(out_size, int) else tuple(out_size))
        self.flip_ratio = flip_ratio
        self.jitter_prob = jitter_prob
        self.brightness = ColorJitter.check_input(_tuple(brightness), 1, 1)
        self.contrast = ColorJitter.check_input(_tuple(contrast), 1, 1)
        self.saturation = ColorJitter.check_input(_tuple(saturation), 1, 1)
        self.hue = ColorJitter.check_input(_tuple(hue), 0.5, 0)
        self.grayscale_prob = grayscale_prob

    def resized_shape(self, img_shape: Tuple[int, int]) -> Tuple[int, int]:
        """(h, w) of the frames after the first resize."""
        h, w = img_shape
        if self.resize_scale is None:
            return h, w
        new_w, new_h = mmcv.rescale_size((w, h), self._rescale)
        return new_h, new_w

    def draw(self, img_shape: Tuple[int, int]) -> np.ndarray:
        """One view's row of :data:`VIEW_AUGMENTATION_FIELDS`."""
        h, w = self.resized_shape(img_shape)
        x1, y1, x2, y2 = RandomResizedCrop.get_crop_bbox(
            (h, w), self.area_range, self.aspect_ratio_range)
        flip = np.random.rand() < self.flip_ratio
        jitter = np.random.rand() < self.jitter_prob
        factors = [
            np.random.uniform(*self.brightness),
            np.random.uniform(*self.contrast),
            np.random.uniform(*self.saturation),
            np.random.uniform(*self.hue)
        ] if jitter else [1., 1., 1., 0.]
        order = np.random.permutation(4)
        gray = np.random.rand() < self.grayscale_prob
        return np.array(
            [w, h, x1, y1, x2, y2, *self.out_size, flip, jitter] + factors +
            list(order) + [gray],
            dtype=np.float64)

    def transform(self, results: Dict) -> Dict:
        """Add ``view_augmentations`` (num_views, 19) to ``results``."""
        img_shape = tuple(results['img_shape'][:2])
        results['view_augmentations'] = np.stack([
            self.draw(img_shape) for _ in range(self.num_views)
        ]).astype(np.float32)
        return results

    def per_frame_pipeline(self) -> List[dict]:
        """MMAction2's per-view pipeline that draws the same distributions.

        What a view cost before this transform: ``MultiViewClip`` with
        these transforms (numpy / OpenCV, frame by frame, in the workers).
        The benchmark times it and the equivalence tests draw from it.
        """
        views = []
        if self.resize_scale is not None:
            views.append(
                dict(type='Resize', scale=self.resize_scale, keep_ratio=True))
        views += [
            dict(
                type='RandomResizedCrop',
                area_range=self.area_range,
                aspect_ratio_range=self.aspect_ratio_range),
            dict(type='Resize', scale=self.out_size, keep_ratio=False),
            dict(type='Flip', flip_ratio=self.flip_ratio),
            dict(
                type='mmcv.RandomApply',
                prob=self.jitter_prob,
                transforms=[
                    dict(
                        type='mmaction.ColorJitter',
                        brightness=self.brightness,
                        contrast=self.contrast,
                        saturation=self.saturation,
                        hue=self.hue)
                ]),
            dict(
                type='mmcv.RandomApply',
                prob=self.grayscale_prob,
                transforms=[
                    dict(
                        type='mmaction.ColorJitter',
                        brightness=(1., 1.),
                        contrast=(1., 1.),
                        saturation=(0., 0.),
                        hue=(0., 0.))
                ]),
            dict(type='FormatShape', input_format='NCTHW'),
        ]
        return [
            dict(
                type='MultiViewClip',
                num_views=self.num_views,
                transforms=views)
        ]

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_views={self.num_views}, '
                f'resize_scale={self.resize_scale}, '
                f'area_range={self.area_range}, '
                f'aspect_ratio_range={self.aspect_ratio_range}, '
                f'out_size={self.out_size}, flip_ratio={self.flip_ratio}, '
                f'jitter_prob={self.jitter_prob}, '
                f'brightness={self.brightness}, contrast={self.contrast}, '
                f'saturation={self.saturation}, hue={self.hue}, '
                f'grayscale_prob={self.grayscale_prob})')


def _tuple(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value
