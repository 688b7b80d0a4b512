"""``TransformerClipEncoder``: frozen 2D CNN frame features -> Transformer."""
from __future__ import annotations
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_

from mmaction.registry import MODELS
from mmaction.utils import ConfigType, OptConfigType
from ..utils.pooling import pool_features


class ClipTransformer(nn.Module):
    """Frame features -> frame tokens -> Transformer -> clip embedding.

    This is the trainable part of :class:`TransformerClipEncoder`, kept as
    its own module so that a momentum copy of it does not duplicate the
    frozen frame encoder.

    Args:
        in_dims (int): Frame feature size D_f.
        embed_dims (int): Token size E.
        num_frames (int): Maximum number of frames (position embeddings).
        num_layers (int): Transformer layers.
        num_heads (int): Attention heads; must divide ``embed_dims``.
        mlp_ratio (float): MLP hidden size over ``embed_dims``.
        dropout (float): Dropout in the Transformer layers.
    """

    def __init__(self, in_dims: int, embed_dims: int, num_frames: int,
                 num_layers: int, num_heads: int, mlp_ratio: float,
                 dropout: float) -> None:
        super().__init__()
        self.in_dims = in_dims
        self.num_frames = num_frames
        self.frame_proj = nn.Linear(in_dims, embed_dims)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.pos_embed = nn.Parameter(
            torch.zeros(1, num_frames + 1, embed_dims))
        layer = nn.TransformerEncoderLayer(
            embed_dims,
            num_heads,
            dim_feedforward=int(embed_dims * mlp_ratio),
            dropout=dropout,
            activation='gelu',
            batch_first=True,
            norm_first=True)
        self.encoder = nn.TransformerEncoder(
            layer, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(embed_dims)
        trunc_normal_(self.pos_embed, std=0.02)
        trunc_normal_(self.cls_token, std=0.02)

    def forward(self, frame_feats: torch.Tensor) -> torch.Tensor:
        """Encode a clip.

        Args:
            frame_feats (torch.Tensor): (N, T, D_f) frame features in the
                order the clip should be read (a shuffled clip passes its
                permuted features: positions are by slot, not by frame).

        Returns:
            torch.Tensor: (N, E) clip embeddings (the CLS token).
        """
        batch, length, dims = frame_feats.shape
        if dims != self.in_dims:
            raise ValueError(
                f'TransformerClipEncoder: frame features have {dims} '
                f'channels but frame_feat_dims={self.in_dims}')
        if length > self.num_frames:
            raise ValueError(
                f'TransformerClipEncoder: clip has {length} frames but '
                f'num_frames={self.num_frames}')
        tokens = self.frame_proj(frame_feats)
        tokens = torch.cat([self.cls_token.expand(batch, -1, -1), tokens], 1)
        tokens = tokens + self.pos_embed[:, :length + 1]
        return self.norm(self.encoder(tokens)[:, 0])


@MODELS.register_module()
class TransformerClipEncoder(BaseModule):
    """CACL's Transformer clip encoder, usable as an MMAction2 backbone.

    A 2D CNN (any registered 2D backbone; ResNet-50 as in the paper), frozen
    and kept in eval mode by default, turns each frame into a feature vector
    (global average pooled last stage); a linear layer projects it to an
    ``embed_dims`` token; a CLS token and learnable position embeddings are
    added; a pre-norm Transformer encoder reads the tokens and the CLS output
    is the clip embedding.

    Load the 2D CNN from a checkpoint with ``frame_encoder_checkpoint`` (a
    stage-0 ``FrameMoCo`` checkpoint, any checkpoint with the 2D CNN under
    ``backbone.``, or a plain state dict), or with ``init_cfg`` on
    ``frame_encoder``
    (``dict(type='Pretrained', checkpoint=..., prefix=...)``).

    As the backbone of a ``Recognizer3D``, pair it with
    ``I3DHead(spatial_type=None, in_channels=embed_dims)``.

    Args:
        frame_encoder (dict): Config of the 2D backbone. Defaults to
            mmaction's ``ResNet`` depth 50.
        frame_feat_dims (int): Channels of the frame encoder's output.
            Defaults to 2048.
        embed_dims (int): Token size. Defaults to 768.
        num_frames (int): Clip length T (size of the position table).
            Defaults to 16.
        num_layers (int): Transformer layers. Defaults to 6.
        num_heads (int): Attention heads. Defaults to 6.
        mlp_ratio (float): MLP hidden size ratio. Defaults to 4.
        dropout (float): Transformer dropout. Defaults to 0.
        freeze_frame_encoder (bool): Freeze the 2D CNN and keep it in eval
            mode. Defaults to True.
        frame_encoder_checkpoint (str, optional): Checkpoint whose 2D CNN
            weights :meth:`init_weights` loads (every key must match, under
            ``backbone.`` when the checkpoint has such keys, else at the top
            level), in place of ``frame_encoder``'s default initialisation;
            not together with ``frame_encoder.init_cfg``.
        init_cfg (dict or list[dict], optional): Initialisation config.
    """

    def __init__(self,
                 frame_encoder: ConfigType = dict(
                     type='ResNet', depth=50, norm_eval=True),
                 frame_feat_dims: int = 2048,
                 embed_dims: int = 768,
                 num_frames: int = 16,
                 num_layers: int = 6,
                 num_heads: int = 6,
                 mlp_ratio: float = 4.0,
                 dropout: float = 0.0,
                 freeze_frame_encoder: bool = True,
                 frame_encoder_checkpoint: Optional[str] = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if embed_dims % num_heads != 0:
            raise ValueError(
                f'TransformerClipEncoder: embed_dims={embed_dims} is not '
                f'divisible by num_heads={num_heads}')
        self.frame_encoder = MODELS.build(frame_encoder)
        self.freeze_frame_encoder = freeze_frame_encoder
        self.frame_encoder_checkpoint = frame_encoder_checkpoint
        if frame_encoder_checkpoint:
            if frame_encoder.get('init_cfg'):
                raise ValueError(
                    'TransformerClipEncoder: set frame_encoder_checkpoint or '
                    'frame_encoder.init_cfg, not both')
            self._use_frame_encoder_checkpoint(frame_encoder_checkpoint)
        self.embed_dims = embed_dims
        self.clip_transformer = ClipTransformer(frame_feat_dims, embed_dims,
                                                num_frames, num_layers,
                                                num_heads, mlp_ratio, dropout)
        if freeze_frame_encoder:
            self.frame_encoder.requires_grad_(False)
            self.frame_encoder.eval()

    def _use_frame_encoder_checkpoint(self, path: str) -> None:
        """Check ``path`` holds this 2D CNN; load it as its ``init_cfg``.

        The frame encoder's own default initialisation is replaced, as a
        ``Pretrained`` ``init_cfg`` in the config replaces it.

        Every key is checked now, with the error naming the file; the
        weights load in :meth:`init_weights` through mmengine's
        ``Pretrained`` initialiser, as ``frame_encoder.init_cfg`` would.
        """
        from ...utils.checkpoint import (backbone_weights, checkpoint_prefix,
                                         load_checkpoint_dict, state_dict_of)
        state = state_dict_of(load_checkpoint_dict(path))
        prefix = checkpoint_prefix(state)
        backbone_weights(state, self.frame_encoder, prefix, path)
        init_cfg = dict(type='Pretrained', checkpoint=path)
        if prefix:  # mmengine reads a prefix of '' as '.'
            init_cfg['prefix'] = prefix
        self.frame_encoder.init_cfg = init_cfg

    def train(self, mode: bool = True) -> 'TransformerClipEncoder':
        """Set train mode, keeping a frozen frame encoder in eval mode."""
        super().train(mode)
        if self.freeze_frame_encoder:
            self.frame_encoder.eval()
        return self

    def extract_frame_features(self, x: torch.Tensor) -> torch.Tensor:
        """Run the 2D CNN on every frame.

        Args:
            x (torch.Tensor): Clips of shape (N, C, T, H, W).

        Returns:
            torch.Tensor: Frame features of shape (N, T, D_f).
        """
        if x.ndim != 5:
            raise ValueError('TransformerClipEncoder expects NCTHW clips, '
                             f'got shape {tuple(x.shape)}')
        batch, channels, length, height, width = x.shape
        frames = x.transpose(1, 2).reshape(batch * length, channels, height,
                                           width)
        with torch.set_grad_enabled(torch.is_grad_enabled()
                                    and not self.freeze_frame_encoder):
            feats = pool_features(self.frame_encoder(frames))
        return feats.reshape(batch, length, -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode clips.

        Args:
            x (torch.Tensor): Clips of shape (N, C, T, H, W).

        Returns:
            torch.Tensor: Clip embeddings of shape (N, E).
        """
        return self.clip_transformer(self.extract_frame_features(x))
