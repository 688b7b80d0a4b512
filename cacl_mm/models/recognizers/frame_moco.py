"""``FrameMoCo``: stage 0, MoCo v2 on video frames for the frame encoder."""
from __future__ import annotations

from typing import Dict

import torch
from mmengine.model import ExponentialMovingAverage

from mmaction.registry import MODELS
from mmaction.utils import ConfigType, OptConfigType, SampleList
from ..utils.batch_shuffle import shuffle_bn_forward
from .base_moco import BaseMoCo, CNNBranch


@MODELS.register_module()
class FrameMoCo(BaseMoCo):
    """MoCo v2 on single frames of the (unlabelled) training videos.

    CACL's Transformer reads frame features from a frozen 2D CNN that the
    paper pretrained with MoCo on UCF101 frames (never released). This model
    is that stage: a 2D backbone (MMAction2's ``ResNet``), a projection, a
    momentum encoder with shuffle-BN and a queue, trained by the same
    ``CrossArchContrastiveHead`` (pairs ``[('cnn_q', 'cnn_k')]``) and
    ``MoCoQueueHook`` as CACL. Its checkpoint initialises
    ``TransformerClipEncoder.frame_encoder`` through
    ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.

    Inputs are two views of one frame per sample, (N, 2, C, 1, H, W), as
    ``SampleFrames(clip_len=1)`` + ``MultiViewClip`` + ``PackActionInputs``
    produce them.

    Args:
        backbone (dict): A 2D backbone config.
        contrast_head (dict): ``CrossArchContrastiveHead`` with
            ``pairs=[('cnn_q', 'cnn_k')]`` and ``in_channels=dict(cnn=D)``.
        momentum (float): MoCo momentum m. Defaults to 0.999.
        shuffle_bn_splits (int): One-process shuffle-BN sub-batches.
        data_preprocessor (dict, optional): Defaults to
            ``ActionDataPreprocessor(format_shape='NCTHW')``.
        init_cfg (dict, optional): Initialisation config.
    """

    _input_ndim = 4

    def __init__(self,
                 backbone: ConfigType,
                 contrast_head: ConfigType,
                 momentum: float = 0.999,
                 shuffle_bn_splits: int = 2,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(momentum=momentum,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.contrast_head = MODELS.build(contrast_head)
        if self.contrast_head.pairs != [('cnn_q', 'cnn_k')]:
            raise ValueError("FrameMoCo: model.contrast_head.pairs must be "
                             f"[('cnn_q', 'cnn_k')], got {self.contrast_head.pairs}")
        self.shuffle_bn_splits = shuffle_bn_splits
        self.momentum_cnn = ExponentialMovingAverage(
            self._online(), momentum=1. - momentum)

    def _online(self) -> CNNBranch:
        return CNNBranch(self.backbone, self.contrast_head.projections['cnn'])

    def momentum_encoders(self) -> Dict[str, tuple]:
        """``{'cnn': (ema_module, online_branch)}``."""
        return {'cnn': (self.momentum_cnn, self._online())}

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
            data_samples (list): Unused (no labels in pretraining).

        Returns:
            dict: ``loss_contrast`` and its ``nce_cnn_q-cnn_k`` term.
        """
        frames = self._as_frames(inputs)
        if frames.ndim != 5 or frames.shape[1] != 2:
            raise ValueError(
                'FrameMoCo.loss expects (N, 2 views, C, 1, H, W) inputs '
                '(SampleFrames(clip_len=1) + MultiViewClip(num_views=2)), '
                f'got {tuple(inputs.shape)}')
        self._warn_if_keys_unconsumed()
        head = self.contrast_head
        online = self._online()
        query = head.embed(online.projection, online.features(frames[:, 0]))
        with torch.no_grad():
            key_branch = self.momentum_cnn.module
            key = head.embed(
                key_branch.projection,
                shuffle_bn_forward(key_branch.features, frames[:, 1],
                                   self.shuffle_bn_splits))
        sample_ids = self.sample_ids(data_samples, inputs.device)
        losses = head.loss({'cnn_q': query, 'cnn_k': key}, sample_ids)
        self._set_pending_keys({'cnn': key}, sample_ids)
        return losses
