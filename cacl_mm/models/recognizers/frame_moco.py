"""``FrameMoCo``: stage 0, MoCo v2 on video frames for the frame encoder."""
from __future__ import annotations
from typing import Dict

import torch
import torch.nn as nn

from mmaction.registry import MODELS
from mmaction.utils import ConfigType, OptConfigType, SampleList
from ..utils.batch_shuffle import shuffle_bn_forward
from ..utils.encoders import CNNEncoder
from ..utils.representations import CNN_K, CNN_Q, Arch
from .base_moco import BaseMoCo


@MODELS.register_module()
class FrameMoCo(BaseMoCo):
    """MoCo v2 on single frames of the (unlabelled) training videos.

    CACL's Transformer reads frame features from a frozen 2D CNN that the
    paper pretrained with MoCo on UCF101 frames (never released). This model
    is that stage: a 2D backbone (MMAction2's ``ResNet``), a neck, a
    momentum encoder with shuffle-BN and a ``KeyQueue``, trained by the
    same ``CrossArchContrastiveHead`` (pairs ``[('cnn_q', 'cnn_k')]``) and
    ``MoCoQueueHook`` as CACL. Its checkpoint initialises
    ``TransformerClipEncoder`` through ``frame_encoder_checkpoint``.

    Inputs are two views of one frame per sample, (N, 2, C, 1, H, W), as
    ``SampleFrames(clip_len=1)`` + ``MultiViewClip`` + ``PackActionInputs``
    produce them.

    Args:
        backbone (dict): A 2D backbone config.
        neck (dict): ``ProjectionNeck`` config.
        contrast_head (dict): ``CrossArchContrastiveHead`` with
            ``pairs=[('cnn_q', 'cnn_k')]``.
        queue (dict, optional): ``KeyQueue`` config.
        momentum (float): MoCo momentum m. Defaults to 0.999.
        shuffle_bn_splits (int): One-process shuffle-BN sub-batches.
        data_preprocessor (dict, optional): Defaults to
            ``ActionDataPreprocessor(format_shape='NCTHW')``.
        init_cfg (dict, optional): Initialisation config.
    """

    input_ndim = 4

    def __init__(self,
                 backbone: ConfigType,
                 neck: ConfigType,
                 contrast_head: ConfigType,
                 queue: OptConfigType = None,
                 momentum: float = 0.999,
                 shuffle_bn_splits: int = 2,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(momentum, queue, data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.contrast_head = self.build_contrast_head(contrast_head)
        if self.contrast_head.pairs != [(CNN_Q, CNN_K)]:
            raise ValueError("FrameMoCo: model.contrast_head.pairs must be "
                             "[('cnn_q', 'cnn_k')]")
        self.neck = self.build_if_used(neck, 'neck', True)
        self.build_queues([self.neck])
        self.shuffle_bn_splits = shuffle_bn_splits
        self.build_momentum_encoders([Arch.CNN])

    def online_encoder(self, arch: Arch = Arch.CNN) -> nn.Module:
        """The online 2D CNN with its neck."""
        return CNNEncoder(self.backbone, self.neck)

    @staticmethod
    def _as_frames(inputs: torch.Tensor) -> torch.Tensor:
        # (..., C, 1, H, W) frames packed as one-frame clips -> (..., C, H, W)
        if inputs.ndim >= 5 and inputs.shape[-3] == 1:
            return inputs.squeeze(-3)
        return inputs

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) or one-frame clips -> (N, D) pooled features."""
        return super().extract_feat(self._as_frames(inputs))

    def loss(self, inputs: torch.Tensor,
             data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """InfoNCE between the online view 1 and the momentum view 2.

        Args:
            inputs (torch.Tensor): (N, 2, C, 1, H, W) two views of a frame.
            data_samples (list): With ``sample_idx`` (no labels are used).

        Returns:
            dict: ``loss_contrast`` and its ``nce_cnn_q-cnn_k`` term.
        """
        frames = self._as_frames(inputs)
        if frames.ndim != 5 or frames.shape[1] != 2:
            raise ValueError(
                'FrameMoCo.loss expects (N, 2 views, C, 1, H, W) inputs '
                '(SampleFrames(clip_len=1) + MultiViewClip(num_views=2)), '
                f'got {tuple(inputs.shape)}')
        online = self.online_encoder()
        query = online.neck(online.features(frames[:, 0]))
        with torch.no_grad():
            key_encoder = self.momentum_encoder(Arch.CNN)
            key = key_encoder.neck(
                shuffle_bn_forward(key_encoder.features, frames[:, 1],
                                   self.shuffle_bn_splits))
        return self.contrast({CNN_Q: query, CNN_K: key}, data_samples)
