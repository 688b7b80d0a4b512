"""``ViewAugmentDataPreprocessor``: the views' augmentation, batched."""
from __future__ import annotations
from typing import List, Optional, Sequence, Tuple

import torch

from mmaction.models.data_preprocessors import ActionDataPreprocessor
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from ..utils.background_swap import draw_partners, swap_backgrounds
from ..utils.view_augment import color_views, crop_views


@MODELS.register_module()
class ViewAugmentDataPreprocessor(ActionDataPreprocessor):
    """``ActionDataPreprocessor`` that first builds each sample's views.

    Where the samples carry ``view_augmentations`` (drawn in the data
    workers by ``DrawViewAugmentations``), each uint8 (1, C, T, H, W) clip
    becomes its (V, C, T, h, w) views here, on the model's device: resize,
    crop, resize and flip per sample, then colour jitter and grayscale of
    all B x V views at once. The workers then only decode, and the
    per-pixel work runs batched in torch (on the GPU when training on one)
    instead of MMAction2's per-frame numpy. Batches without
    ``view_augmentations`` (validation, test) are preprocessed exactly as
    by ``ActionDataPreprocessor``.

    Args:
        background_swap (dict, optional): Give some views another clip's
            background (:mod:`..utils.background_swap`): ``views`` (the
            view indices, e.g. ``(1, )`` for the key view), ``prob`` (per
            clip), ``foreground_fraction`` (share of pixels kept, before a
            ``dilation`` of 1 pixel by default). None (default) swaps
            nothing.
        **kwargs: ``ActionDataPreprocessor``'s (mean, std, format_shape ...);
            ``format_shape`` must be ``'NCTHW'``.
    """

    def __init__(self,
                 background_swap: Optional[dict] = None,
                 **kwargs) -> None:
        kwargs.setdefault('format_shape', 'NCTHW')
        if kwargs['format_shape'] != 'NCTHW':
            raise ValueError('ViewAugmentDataPreprocessor: format_shape must '
                             f"be 'NCTHW', got {kwargs['format_shape']!r}")
        super().__init__(**kwargs)
        self.background_swap = self._check_swap(background_swap)

    @staticmethod
    def _check_swap(cfg: Optional[dict]) -> Optional[dict]:
        if cfg is None:
            return None
        known = {'views', 'prob', 'foreground_fraction', 'dilation'}
        unknown = set(cfg) - known
        if unknown or not {'views', 'prob', 'foreground_fraction'} <= set(cfg):
            raise ValueError(
                'model.data_preprocessor.background_swap takes views, prob, '
                f'foreground_fraction and optionally dilation; got {dict(cfg)}'
            )
        if not 0 <= cfg['prob'] <= 1:
            raise ValueError('model.data_preprocessor.background_swap.prob '
                             f"must be in [0, 1], got {cfg['prob']}")
        return dict(cfg, views=tuple(cfg['views']))

    def _swap_backgrounds(self, batch: torch.Tensor,
                          views: Sequence[int]) -> torch.Tensor:
        """(B, V, C, T, h, w) -> the same with the chosen views swapped."""
        cfg = self.background_swap
        batch = batch.clone()
        for view in views:
            if not 0 <= view < batch.shape[1]:
                raise ValueError(
                    'model.data_preprocessor.background_swap.views: view '
                    f'{view} of a {batch.shape[1]}-view batch')
            chosen, partners = draw_partners(batch.shape[0], cfg['prob'])
            batch[:, view] = swap_backgrounds(batch[:, view],
                                              chosen.to(batch.device),
                                              partners.to(batch.device),
                                              cfg['foreground_fraction'],
                                              cfg.get('dilation', 1))
        return batch

    def preprocess(self,
                   inputs: List[torch.Tensor],
                   data_samples: SampleList,
                   training: bool = False) -> Tuple:
        """Build the views of every sample, then normalise as MMAction2.

        Args:
            inputs (list[Tensor]): (1, C, T, H, W) uint8 clips (sizes may
                differ between samples), or (V, C, T, H, W): one clip per
                view (``SampleFrames`` with ``num_clips=V``: views from
                different times of the video).
            data_samples (list[ActionDataSample]): with
                ``view_augmentations`` (V, 19) to build views.

        Returns:
            tuple: (B, V, C, T, h, w) float inputs and the data samples.
        """
        if not data_samples or 'view_augmentations' not in data_samples[0]:
            return super().preprocess(inputs, data_samples, training)
        rows = [
            torch.as_tensor(sample.view_augmentations)
            for sample in data_samples
        ]
        num_views = rows[0].shape[0]
        views = []
        for clip, sample_rows in zip(inputs, rows):
            if clip.dim() != 5 or clip.shape[0] not in (1, num_views):
                raise ValueError(
                    'ViewAugmentDataPreprocessor expects one (1, C, T, H, W) '
                    'clip per sample, or one per view (SampleFrames '
                    f'num_clips=1 or {num_views}, FormatShape '
                    f"'NCTHW'), got {tuple(clip.shape)}")
            if clip.shape[0] == 1:
                views.append(crop_views(clip[0], sample_rows))
            else:  # view v from clip v: views from different times
                views.append(
                    torch.cat([
                        crop_views(clip[v], sample_rows[v:v + 1])
                        for v in range(num_views)
                    ]))
        batch = color_views(torch.cat(views), torch.cat(rows))
        batch = batch.view(len(views), num_views, *batch.shape[1:])
        if self.background_swap is not None and training:
            batch = self._swap_backgrounds(batch,
                                           self.background_swap['views'])
        return super().preprocess(list(batch), data_samples, training)
