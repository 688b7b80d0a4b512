"""``CACL``: Cross-Architecture Contrastive Learning (CVPR 2022)."""
from __future__ import annotations
from typing import Dict, Sequence, Tuple

import torch
import torch.nn as nn

from mmaction.registry import MODELS
from mmaction.utils import ConfigType, OptConfigType, SampleList
from ..utils.encoders import (CNNEncoder, TransformerEncoder,
                              convert_channels_last, with_twins)
from ..utils.representations import (CNN_K, CNN_Q, TRANS_K, TRANS_Q, Arch,
                                     Representation)
from .base_moco import BaseMoCo, stack_sample_field


@MODELS.register_module()
class CACL(BaseMoCo):
    """Cross-Architecture Contrastive Learning.

    Each sample carries two augmented views of one clip and the frame order
    of its shuffled twin (``shuffle_order``, from ``ShuffleByMED``). One
    training step:

    1. The frozen 2D CNN encodes the frames of both views in one pass; a
       twin's frame features are the original's, permuted.
    2. The online 3D CNN encodes view 1 and its twin; the [original | twin]
       features feed ``sdp_head`` (``loss_sdp``) and ``cnn_neck``
       (``cnn_q``). The online Transformer reads view 1's frame features and
       the twin's (``trans_q``).
    3. The momentum encoders read view 2: the 3D CNN with shuffle-BN
       (``cnn_k``), the Transformer (``trans_k``).
       With ``arrow_head``, view 1 played backwards joins step 2's batch
       and its pooled features are a negative for view 1's against view
       2's (``loss_arrow``).
    4. ``contrast_head`` turns its pairs into ``loss_contrast``, with
       negatives from the ``KeyQueue`` of each architecture.

    ``MoCoQueueHook`` then updates the momentum encoders (mmengine
    ``ExponentialMovingAverage``) and enqueues the keys. Everything is
    registered state, so checkpoints hold momentum encoders and queues.

    Args:
        backbone (dict): Any MMAction2 3D backbone (kept for downstream use).
        cnn_neck, transformer_neck (dict, optional): ``ProjectionNeck`` of
            each encoder (needed when a pair names its representations).
        queue (dict, optional): ``KeyQueue`` config (one per architecture).
        contrast_head (dict, optional): ``CrossArchContrastiveHead``; None
            trains the shuffle-degree task alone.
        sdp_head (dict, optional): ``ShuffleDegreeHead``; None: no loss_sdp.
        arrow_head (dict, optional): ``ArrowOfTimeHead``: the online 3D
            CNN also reads view 1 played backwards, a negative for its
            pooled features against the momentum 3D CNN's view 2
            (``loss_arrow``; needs ``cnn_k``). None (the paper's method):
            no such term.
        transformer (dict, optional): ``TransformerClipEncoder``.
        clip_len (int): Frames per clip T. Defaults to 16.
        momentum (float): MoCo momentum m. Defaults to 0.999.
        shuffle_bn_splits (int): BatchNorm sub-batches of the momentum 3D
            CNN in one process (single-GPU shuffle-BN). Defaults to 2.
        share_frame_features (bool): Step 1 as above (default); False runs
            the 2D CNN on every clip and twin per Transformer, as the
            released code (4 passes instead of 2, the same losses).
        data_preprocessor (dict, optional): Defaults to
            ``ActionDataPreprocessor`` with ``format_shape='NCTHW'``.
        channels_last (bool): 3D CNNs in ``torch.channels_last_3d`` layout.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 cnn_neck: OptConfigType = None,
                 transformer_neck: OptConfigType = None,
                 queue: OptConfigType = None,
                 contrast_head: OptConfigType = None,
                 sdp_head: OptConfigType = None,
                 arrow_head: OptConfigType = None,
                 transformer: OptConfigType = None,
                 clip_len: int = 16,
                 momentum: float = 0.999,
                 shuffle_bn_splits: int = 2,
                 share_frame_features: bool = True,
                 data_preprocessor: OptConfigType = None,
                 channels_last: bool = False,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(momentum, queue, data_preprocessor, channels_last,
                         init_cfg)
        if contrast_head is None and sdp_head is None:
            raise ValueError('CACL needs model.contrast_head, model.sdp_head '
                             'or both')
        self.clip_len = clip_len
        self.shuffle_bn_splits = shuffle_bn_splits
        self.share_frame_features = share_frame_features
        self.backbone = convert_channels_last(MODELS.build(backbone)) \
            if channels_last else MODELS.build(backbone)
        self.contrast_head = self.build_contrast_head(contrast_head)
        needed = self.contrast_head.needed if self.contrast_head else ()
        used = {r.arch for r in needed}
        uses_cnn, uses_transformer = Arch.CNN in used, Arch.TRANSFORMER in used
        self.cnn_neck = self.build_if_used(cnn_neck, 'cnn_neck', uses_cnn)
        self.transformer_neck = self.build_if_used(transformer_neck,
                                                   'transformer_neck',
                                                   uses_transformer)
        self.build_queues([self.cnn_neck, self.transformer_neck])
        self.sdp_head = MODELS.build(sdp_head) if sdp_head else None
        if self.sdp_head is not None and self.sdp_head.num_classes != clip_len:
            raise ValueError(
                f'model.sdp_head.num_classes={self.sdp_head.num_classes} must '
                f'equal model.clip_len={clip_len}: a clip of T frames has T '
                'edit-distance classes (0, 2, 3, ..., T)')
        self.arrow_head = MODELS.build(arrow_head) if arrow_head else None
        if self.arrow_head is not None and CNN_K not in needed:
            raise ValueError(
                'model.arrow_head contrasts the pooled features of the '
                "momentum 3D CNN's view 2: model.contrast_head.pairs must "
                "name 'cnn_k'")
        self.transformer = None
        if uses_transformer:
            self.transformer = self._build_transformer(transformer)
        self.build_momentum_encoders([r.arch for r in needed if r.momentum])

    def _build_transformer(self, cfg: OptConfigType) -> nn.Module:
        transformer = self.build_if_used(cfg, 'transformer', True)
        num_frames = transformer.clip_transformer.num_frames
        dims = 2 * transformer.embed_dims
        if num_frames < self.clip_len:
            raise ValueError(f'model.transformer.num_frames={num_frames} is '
                             f'smaller than model.clip_len={self.clip_len}')
        if self.transformer_neck.in_channels != dims:
            raise ValueError(f'model.transformer_neck.in_channels must be 2 x '
                             f'model.transformer.embed_dims = {dims}')
        return transformer

    def online_encoder(self, arch: Arch) -> nn.Module:
        """The online 3D CNN or Transformer encoder with its neck."""
        if arch == Arch.CNN:
            return CNNEncoder(self.backbone, self.cnn_neck, self.channels_last)
        return TransformerEncoder(self.transformer.clip_transformer,
                                  self.transformer_neck)

    def loss(self, inputs: torch.Tensor,
             data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """Losses of (N, 2, C, T, H, W) two-view clips whose samples carry
        ``shuffle_order`` (T,), ``med_label`` and ``sample_idx``."""
        if inputs.ndim != 6 or inputs.shape[1] != 2 or \
                inputs.shape[3] != self.clip_len:
            raise ValueError(
                'CACL.loss expects (N, 2 views, C, T, H, W) inputs with T = '
                f'model.clip_len={self.clip_len} (MultiViewClip(num_views=2) '
                f'+ SampleFrames.clip_len), got shape {tuple(inputs.shape)}')
        order = stack_sample_field(data_samples, 'shuffle_order',
                                   inputs.device)
        views = inputs[:, 0], inputs[:, 1]
        needed = self.contrast_head.needed if self.contrast_head else ()
        # The frozen 2D pass first, while the 3D activations kept for
        # backward do not yet fill memory.
        frames = self.twin_frame_features(views, order, needed)
        cnn = self.online_encoder(Arch.CNN)
        losses = {}
        if self.arrow_head is None:
            pairs = cnn.twin_features(views[0], order)
        else:
            pairs, reversed_feats = cnn.twin_and_reversed_features(
                views[0], order)
        if self.sdp_head is not None:
            labels = stack_sample_field(data_samples, 'med_label',
                                        inputs.device)
            losses.update(self.sdp_head.loss(pairs, labels))
        if self.contrast_head is None:
            return losses
        embeddings = {}
        if CNN_Q in needed:
            embeddings[CNN_Q] = cnn.neck(pairs)
        if TRANS_Q in needed:
            embeddings[TRANS_Q] = self.online_encoder(
                Arch.TRANSFORMER).embed_twins(frames[TRANS_Q])
        with torch.no_grad():
            if CNN_K in needed:
                momentum_cnn = self.momentum_encoder(Arch.CNN)
                key_pairs = momentum_cnn.twin_features_shuffle_bn(
                    views[1], order, self.shuffle_bn_splits)
                embeddings[CNN_K] = momentum_cnn.neck(key_pairs)
            if TRANS_K in needed:
                embeddings[TRANS_K] = self.momentum_encoder(
                    Arch.TRANSFORMER).embed_twins(frames[TRANS_K])
        if self.arrow_head is not None:
            width = pairs.shape[1] // 2
            losses.update(
                self.arrow_head.loss(pairs[:, :width], reversed_feats,
                                     key_pairs[:, :width]))
        losses.update(self.contrast(embeddings, data_samples))
        return losses

    def twin_frame_features(
        self, views: Tuple[torch.Tensor, torch.Tensor], order: torch.Tensor,
        needed: Sequence[Representation]
    ) -> Dict[Representation, torch.Tensor]:
        """(2N, T, D_f) frozen frame features of [clips; twins] of the view
        each Transformer representation reads; no autograd graph."""
        wanted = {
            r: views[r.momentum]
            for r in (TRANS_Q, TRANS_K) if r in needed
        }
        if not wanted:
            return {}
        extract = self.transformer.extract_frame_features
        if not self.share_frame_features:
            return {
                r: extract(with_twins(view, order, 2))
                for r, view in wanted.items()
            }
        feats = extract(torch.cat(list(wanted.values()))).chunk(len(wanted))
        return {r: with_twins(f, order, 1) for r, f in zip(wanted, feats)}

    def predict(self, inputs: torch.Tensor,
                data_samples: SampleList) -> SampleList:
        """``feature`` of (N, [M,] C, T, H, W) clips (clip-averaged pooled
        3D CNN features, as retrieval reads them); one clip per sample with
        ``shuffle_order`` also gets ``med_pred`` (with ``sdp_head``) and
        ``embedding`` (``cnn_neck``) for the pretraining metrics."""
        single = inputs.ndim == 5 or inputs.shape[1] == 1
        if not (single and all(
                s.get('shuffle_order') is not None for s in data_samples)):
            return super().predict(inputs, data_samples)
        clips = inputs if inputs.ndim == 5 else inputs[:, 0]
        order = stack_sample_field(data_samples, 'shuffle_order', clips.device)
        cnn = self.online_encoder(Arch.CNN)
        pairs = cnn.twin_features(clips, order)
        outputs = dict(feature=pairs[:, :pairs.shape[1] // 2])
        if self.sdp_head is not None:
            outputs['med_pred'] = self.sdp_head(pairs).argmax(dim=1)
        if cnn.neck is not None:
            outputs['embedding'] = cnn.neck(pairs)
        for index, sample in enumerate(data_samples):
            for name, values in outputs.items():
                sample.set_field(values[index], name)
        return data_samples
