"""``CACL``: Cross-Architecture Contrastive Learning (CVPR 2022) for MMAction2."""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.model import ExponentialMovingAverage

from mmaction.registry import MODELS
from mmaction.utils import ConfigType, OptConfigType, SampleList
from ..heads.cross_arch_contrastive_head import CrossArchContrastiveHead
from ..utils.batch_shuffle import shuffle_bn_forward
from .base_moco import (BaseMoCo, CNNBranch, convert_channels_last,
                        pool_features)


def stack_sample_field(data_samples: SampleList, key: str,
                       device: torch.device) -> torch.Tensor:
    """(N, ...) long tensor of a per-sample field (``shuffle_order``,
    ``med_label``), with an error that names the pipeline fix."""
    try:
        values = [sample.get(key) for sample in data_samples]
        if any(v is None for v in values):
            raise KeyError(key)
        return torch.as_tensor(np.stack([np.asarray(v) for v in values]),
                               dtype=torch.long, device=device)
    except KeyError:
        raise KeyError(
            f'data sample has no "{key}": add ShuffleByMED to the train '
            f"pipeline and PackActionInputs(algorithm_keys=('shuffle_order', "
            f"'med_label'))") from None


def shuffle_time(x: torch.Tensor, order: torch.Tensor, dim: int) -> torch.Tensor:
    """Reorder the time axis of each sample.

    Args:
        x (torch.Tensor): (N, ...) with time on ``dim``.
        order (torch.Tensor): (N, T) frame order per sample.
        dim (int): The time dimension of ``x``.

    Returns:
        torch.Tensor: ``x`` with ``out[n, ..., t, ...] = x[n, ..., order[n, t], ...]``.
    """
    shape = [1] * x.ndim
    shape[0], shape[dim] = order.shape
    return torch.take_along_dim(x, order.view(shape), dim=dim)


class TransformerBranch(nn.Module):
    """Clip Transformer + projection: one contrastive encoder."""

    def __init__(self, clip_transformer: nn.Module,
                 projection: nn.Module) -> None:
        super().__init__()
        self.clip_transformer = clip_transformer
        self.projection = projection


def concat_twins(feats: torch.Tensor) -> torch.Tensor:
    """(2N, D) features of [originals; shuffled] -> (N, 2D) pairs."""
    original, shuffled = feats.chunk(2)
    return torch.cat([original, shuffled], dim=1)


@MODELS.register_module()
class CACL(BaseMoCo):
    """Cross-Architecture Contrastive Learning.

    Each sample carries two augmented views of one clip and a frame order
    (``shuffle_order``, from ``ShuffleByMED``) defining its shuffled twin.

    * The online 3D CNN encodes view 1 and its twin; their pooled features
      are concatenated (``cnn_q`` after projection) and also feed the
      shuffle-degree head (``loss_sdp``).
    * The frozen frame encoder runs once per view; the twin's frame features
      are the original's, permuted. The online clip Transformer reads view
      1 (``trans_q``), its momentum copy reads view 2 (``trans_k``).
    * The momentum 3D CNN reads view 2 and its twin with shuffle-BN
      (``cnn_k``).
    * ``CrossArchContrastiveHead`` turns the configured pairs into
      ``loss_contrast`` with negatives from per-architecture queues.

    Momentum encoders are mmengine ``ExponentialMovingAverage`` modules;
    ``MoCoQueueHook`` updates them and enqueues the keys after each
    optimizer step. Everything is registered state, so checkpoints hold the
    momentum encoders and queues.

    Args:
        backbone (dict): Any MMAction2 3D backbone (kept for downstream use).
        contrast_head (dict, optional): ``CrossArchContrastiveHead`` config;
            None trains the shuffle-degree task alone.
        sdp_head (dict, optional): ``ShuffleDegreeHead`` config; None turns
            shuffle-degree prediction off.
        transformer (dict, optional): ``TransformerClipEncoder`` config;
            required when a pair names a Transformer representation.
        clip_len (int): Frames per clip T. Defaults to 16.
        momentum (float): MoCo momentum m of the key encoders, in the MoCo
            convention ``key = m * key + (1 - m) * online``. Defaults to
            0.999.
        shuffle_bn_splits (int): In one process, the number of BatchNorm
            sub-batches the momentum 3D CNN uses (single-GPU shuffle-BN).
            Defaults to 2.
        sdp_temporal (bool): Feed the shuffle-degree head one feature per
            time slot of the 3D CNN's last stage (pooled over space only,
            ``sdp_head.in_channels`` = 2 x channels x slots) instead of the
            globally pooled features. The distance counts displaced frames,
            which a clip-level average cannot locate. Defaults to False.
        data_preprocessor (dict, optional): Defaults to
            ``ActionDataPreprocessor`` with ``format_shape='NCTHW'``.
        channels_last (bool): 3D CNNs in ``torch.channels_last_3d`` layout.
            Defaults to False.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 contrast_head: OptConfigType = None,
                 sdp_head: OptConfigType = None,
                 transformer: OptConfigType = None,
                 clip_len: int = 16,
                 momentum: float = 0.999,
                 shuffle_bn_splits: int = 2,
                 sdp_temporal: bool = False,
                 data_preprocessor: OptConfigType = None,
                 channels_last: bool = False,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(momentum=momentum,
                         data_preprocessor=data_preprocessor,
                         channels_last=channels_last,
                         init_cfg=init_cfg)
        if contrast_head is None and sdp_head is None:
            raise ValueError('CACL needs model.contrast_head, model.sdp_head '
                             'or both')
        self.clip_len = clip_len
        self.shuffle_bn_splits = shuffle_bn_splits
        self.sdp_temporal = sdp_temporal
        self.backbone = MODELS.build(backbone)
        if channels_last:
            convert_channels_last(self.backbone)

        self.contrast_head: Optional[CrossArchContrastiveHead] = (
            MODELS.build(contrast_head) if contrast_head else None)
        self.sdp_head = MODELS.build(sdp_head) if sdp_head else None
        if self.sdp_head is not None and self.sdp_head.num_classes != clip_len:
            raise ValueError(
                f'model.sdp_head.num_classes={self.sdp_head.num_classes} must '
                f'equal model.clip_len={clip_len}: a clip of T frames has T '
                'edit-distance classes (0, 2, 3, ..., T)')

        needed = self.contrast_head.needed if self.contrast_head else ()
        uses_transformer = any(n.startswith('trans') for n in needed)
        self.transformer = None
        if uses_transformer:
            if transformer is None:
                raise ValueError('model.contrast_head.pairs use the Transformer '
                                 'but model.transformer is not set')
            self.transformer = MODELS.build(transformer)
            num_frames = self.transformer.clip_transformer.num_frames
            if num_frames < clip_len:
                raise ValueError(
                    f'model.transformer.num_frames={num_frames} is smaller '
                    f'than model.clip_len={clip_len}')
            trans_in = self.contrast_head.projections['trans'].in_channels
            if trans_in != 2 * self.transformer.embed_dims:
                raise ValueError(
                    f'model.contrast_head.in_channels.trans={trans_in} must be '
                    f'2 x model.transformer.embed_dims = '
                    f'{2 * self.transformer.embed_dims}')

        # Momentum (key) encoders. mmengine's EMA uses the opposite
        # convention (weight of the online model), hence 1 - m.
        self.momentum_cnn = None
        self.momentum_trans = None
        if 'cnn_k' in needed:
            self.momentum_cnn = ExponentialMovingAverage(
                self._online_cnn(), momentum=1. - momentum)
        if 'trans_k' in needed:
            self.momentum_trans = ExponentialMovingAverage(
                self._online_trans(), momentum=1. - momentum)

    # ------------------------------------------------------------ encoders
    def _online_cnn(self) -> CNNBranch:
        projection = (self.contrast_head.projections['cnn'] if
                      self.contrast_head is not None
                      and 'cnn' in self.contrast_head.projections else
                      nn.Identity())
        return CNNBranch(self.backbone, projection, self.channels_last)

    def _online_trans(self) -> TransformerBranch:
        return TransformerBranch(self.transformer.clip_transformer,
                                 self.contrast_head.projections['trans'])

    def momentum_encoders(self) -> Dict[str, tuple]:
        """``{arch: (ema_module, online_branch)}`` for the hook."""
        pairs = {}
        if self.momentum_cnn is not None:
            pairs['cnn'] = (self.momentum_cnn, self._online_cnn())
        if self.momentum_trans is not None:
            pairs['trans'] = (self.momentum_trans, self._online_trans())
        return pairs

    def _check_inputs(self, inputs: torch.Tensor) -> None:
        if inputs.ndim != 6 or inputs.shape[1] != 2:
            raise ValueError(
                'CACL.loss expects (N, 2 views, C, T, H, W) inputs from '
                'MultiViewClip(num_views=2) + PackActionInputs, got shape '
                f'{tuple(inputs.shape)}')
        if inputs.shape[3] != self.clip_len:
            raise ValueError(
                f'clips have {inputs.shape[3]} frames but model.clip_len='
                f'{self.clip_len}: set SampleFrames.clip_len in the train '
                'pipeline and model.clip_len to the same value')

    def loss(self, inputs: torch.Tensor,
             data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """CACL losses for a batch of two-view clips.

        Args:
            inputs (torch.Tensor): (N, 2, C, T, H, W) normalised views.
            data_samples (list[ActionDataSample]): With ``shuffle_order``
                (T,) and ``med_label``.

        Returns:
            dict: ``loss_contrast`` / ``loss_sdp``, the per-pair InfoNCE
            terms and ``acc_sdp``.
        """
        self._check_inputs(inputs)
        self._warn_if_keys_unconsumed()
        order = stack_sample_field(data_samples, 'shuffle_order', inputs.device)
        view_q, view_k = inputs[:, 0], inputs[:, 1]
        losses: Dict[str, torch.Tensor] = {}
        needed = self.contrast_head.needed if self.contrast_head else ()
        embeddings: Dict[str, torch.Tensor] = {}
        # The frozen 2D pass first, for both views in one batch, while the
        # 3D activations kept for backward do not yet fill memory.
        frames = self._frame_features(
            view_q if 'trans_q' in needed else None,
            view_k if 'trans_k' in needed else None)

        online_cnn = self._online_cnn()
        cnn_pairs, sdp_pairs = self._twin_pairs(online_cnn, view_q, order)
        if self.sdp_head is not None:
            labels = stack_sample_field(data_samples, 'med_label',
                                        inputs.device)
            losses.update(self.sdp_head.loss(sdp_pairs, labels))
        if self.contrast_head is None:
            return losses
        head = self.contrast_head
        if 'cnn_q' in needed:
            embeddings['cnn_q'] = head.embed(online_cnn.projection, cnn_pairs)
        if 'trans_q' in needed:
            embeddings['trans_q'] = self._trans_embed(self._online_trans(),
                                                      frames['q'], order)
        with torch.no_grad():
            if 'cnn_k' in needed:
                key_cnn = self.momentum_cnn.module
                feats = shuffle_bn_forward(
                    key_cnn.features,
                    torch.cat([view_k, shuffle_time(view_k, order, 2)]),
                    self.shuffle_bn_splits)
                embeddings['cnn_k'] = head.embed(key_cnn.projection,
                                                 concat_twins(feats))
            if 'trans_k' in needed:
                embeddings['trans_k'] = self._trans_embed(
                    self.momentum_trans.module, frames['k'], order)
        sample_ids = self.sample_ids(data_samples, inputs.device)
        losses.update(head.loss(embeddings, sample_ids))
        self._set_pending_keys(
            {name[:-2]: embeddings[name]
             for name in ('cnn_k', 'trans_k') if name in embeddings},
            sample_ids)
        return losses

    def predict(self, inputs: torch.Tensor,
                data_samples: SampleList) -> SampleList:
        """Backbone features, and the pretraining diagnostics when possible.

        Every sample gets ``feature``: the (clip-averaged) pooled 3D CNN
        features, as downstream retrieval uses them. When the samples carry
        ``shuffle_order`` (``ShuffleByMED`` in the pipeline) and hold one
        clip each, the clip and its shuffled twin are encoded together and
        each sample also gets ``med_pred`` (the shuffle-degree class the
        head predicts, with ``sdp_head``) and ``embedding`` (the projected
        [original | twin] features the contrastive loss compares, with a
        3D CNN projection): what ``ShuffleDegreeMetric`` and
        ``EmbeddingSpreadMetric`` read.

        Args:
            inputs (torch.Tensor): (N, C, T, H, W) or (N, M, C, T, H, W).
            data_samples (list[ActionDataSample]): One per clip.

        Returns:
            list[ActionDataSample]: The samples with the fields set.
        """
        single = inputs.ndim == 5 or inputs.shape[1] == 1
        has_order = all(s.get('shuffle_order') is not None
                        for s in data_samples)
        if not (single and has_order):
            return super().predict(inputs, data_samples)
        clips = inputs if inputs.ndim == 5 else inputs[:, 0]
        order = stack_sample_field(data_samples, 'shuffle_order', clips.device)
        online = self._online_cnn()
        pairs, sdp_pairs = self._twin_pairs(online, clips, order)
        original = pairs[:, :pairs.shape[1] // 2]
        outputs = dict(feature=original)
        if self.sdp_head is not None:
            outputs['med_pred'] = self.sdp_head(sdp_pairs).argmax(dim=1)
        if self.contrast_head is not None and 'cnn' in \
                self.contrast_head.projections:
            outputs['embedding'] = self.contrast_head.embed(
                online.projection, pairs)
        for index, sample in enumerate(data_samples):
            for name, values in outputs.items():
                sample.set_field(values[index], name)
        return data_samples

    @torch.no_grad()
    def predict_shuffle_degree(self, clips: torch.Tensor,
                               order: torch.Tensor) -> torch.Tensor:
        """Edit-distance class logits of clips and their shuffled twins.

        Args:
            clips (torch.Tensor): (N, C, T, H, W) normalised clips.
            order (torch.Tensor): (N, T) frame order of each twin.

        Returns:
            torch.Tensor: (N, T) logits over the classes ``0, 2, ..., T``.
        """
        if self.sdp_head is None:
            raise ValueError('this CACL has no sdp_head (model.sdp_head=None)')
        return self.sdp_head(
            self._twin_pairs(self._online_cnn(), clips, order)[1])

    def _twin_pairs(self, branch: CNNBranch, clips: torch.Tensor,
                    order: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Clips and their shuffled twins through the 3D CNN, as one batch.

        Args:
            clips (torch.Tensor): (N, C, T, H, W) clips.
            order (torch.Tensor): (N, T) frame order of each twin.

        Returns:
            tuple: (N, 2D) [original | twin] pooled features, and the pairs
            the shuffle-degree head reads: the same, or with
            ``sdp_temporal`` (N, 2 D T') per-time-slot features.
        """
        maps = branch.feature_maps(
            torch.cat([clips, shuffle_time(clips, order, 2)]))
        pooled = concat_twins(pool_features(maps))
        if not self.sdp_temporal:
            return pooled, pooled
        return pooled, concat_twins(pool_features(maps, keep_time=True))

    def _twin_features(self, branch: CNNBranch, clips: torch.Tensor,
                       order: torch.Tensor) -> torch.Tensor:
        """(N, C, T, H, W) clips -> (N, 2D) [original | shuffled twin] features."""
        return self._twin_pairs(branch, clips, order)[0]

    def _frame_features(self, view_q: Optional[torch.Tensor],
                        view_k: Optional[torch.Tensor]
                        ) -> Dict[str, torch.Tensor]:
        """Frozen 2D features of the views the Transformers read.

        One 2D pass per view (both views in one batch); the shuffled twins
        reuse these features permuted, and the momentum Transformer reads
        the same frozen features. No autograd graph is built.

        Returns:
            dict: ``'q'`` / ``'k'`` -> (N, T, D_f) frame features.
        """
        views = {name: view for name, view in (('q', view_q), ('k', view_k))
                 if view is not None}
        if not views:
            return {}
        feats = self.transformer.extract_frame_features(
            torch.cat(list(views.values())))
        return dict(zip(views, feats.chunk(len(views))))

    def _trans_embed(self, branch: TransformerBranch, frames: torch.Tensor,
                     order: torch.Tensor) -> torch.Tensor:
        """(N, T, D_f) frame features -> (N, D) projected embeddings.

        The shuffled twin's tokens are the original's features, permuted.
        """
        both = torch.cat([frames, shuffle_time(frames, order, 1)])
        return self.contrast_head.embed(
            branch.projection, concat_twins(branch.clip_transformer(both)))
