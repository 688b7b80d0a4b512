"""``VideoFeatureExtractor``: a backbone predicting clip-averaged features."""
from __future__ import annotations
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModel

from mmaction.registry import MODELS
from mmaction.utils import ConfigType, OptConfigType, SampleList
from ..utils.pooling import mean_over_clips, pool_features, select_stage
from .base_moco import build_data_preprocessor


@MODELS.register_module()
class VideoFeatureExtractor(BaseModel):
    """Wrap any MMAction2 backbone for feature extraction (retrieval).

    ``predict`` sets ``feature`` on each data sample: the backbone feature of
    each of the M clips, pooled, averaged over the clips.

    Args:
        backbone (dict): The backbone config (that of the pretrained model).
        feature (str): ``'avg'``: global average pool of the last stage
            (default); ``'conv5_maxpool'``: the released CACL / VCOP feature,
            a (1, 2, 2) max pool of conv5, flattened.
        data_preprocessor (dict, optional): Defaults to
            ``ActionDataPreprocessor(format_shape='NCTHW')``.
    """

    def __init__(self,
                 backbone: ConfigType,
                 feature: str = 'avg',
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(
            data_preprocessor=build_data_preprocessor(data_preprocessor),
            init_cfg=init_cfg)
        if feature not in ('avg', 'conv5_maxpool'):
            raise ValueError("feature must be 'avg' or 'conv5_maxpool', got "
                             f'{feature!r}')
        self.backbone = MODELS.build(backbone)
        self.feature = feature
        self.conv5_pool = nn.MaxPool3d((1, 2, 2), (1, 2, 2))

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """(N, M, C, T, H, W) or (N, C, T, H, W) -> (N, D)."""
        return mean_over_clips(self._clip_features, inputs, input_ndim=5)

    def _clip_features(self, clips: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) clips -> (B, D) features."""
        out = self.backbone(clips)
        if self.feature == 'avg':
            return pool_features(out)
        out = select_stage(out)
        if out.ndim != 5:
            raise ValueError('conv5_maxpool needs a 5D feature map, the '
                             f'backbone gives {tuple(out.shape)}')
        return self.conv5_pool(out).flatten(1)

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[SampleList] = None,
                mode: str = 'tensor'):
        """``predict`` attaches features; ``tensor`` returns them."""
        feats = self.extract_feat(inputs)
        if mode == 'tensor':
            return feats
        if mode == 'predict':
            for sample, feat in zip(data_samples, feats):
                sample.set_field(feat, 'feature')
            return data_samples
        raise RuntimeError(f'VideoFeatureExtractor has no {mode!r} mode')
