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

#: ``frame_encoder_checkpoint`` value that keeps a random 2D CNN on purpose.
RANDOM_FRAME_ENCODER = 'random'


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

    The 2D CNN's weights come from one option, ``frame_encoder_checkpoint``:
    a stage-0 ``FrameMoCo`` checkpoint, an MMAction2 or mmpretrain ResNet
    checkpoint (under ``backbone.``), or a plain torchvision / MMAction2
    ResNet state dict (torchvision's names are converted, ``fc.*`` dropped).
    Every tensor of the 2D CNN must load, or :meth:`init_weights` names the
    file and what is missing. A frozen 2D CNN without weights would feed
    the Transformer random features for the whole run, so
    :meth:`init_weights` (which mmengine's Runner calls before training,
    never before testing) refuses it unless the option says
    ``'random'`` on purpose (tests, ablations).

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
            weights :meth:`init_weights` loads strictly (under ``backbone.``
            when the checkpoint has such keys, else at the top level), or
            ``'random'`` to keep the 2D CNN's own initialisation on
            purpose. None: no weights, which :meth:`init_weights` refuses
            for a frozen 2D CNN.
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
        for key in ('init_cfg', 'pretrained'):
            if frame_encoder.get(key):
                raise ValueError(
                    f'TransformerClipEncoder: frame_encoder.{key} is not '
                    'supported (with a torchvision or mmpretrain file it '
                    'would load nothing and say so only in the log); give '
                    'the weights with model.transformer.'
                    'frame_encoder_checkpoint=PATH, which reads stage-0, '
                    'MMAction2, mmpretrain and torchvision ResNet files '
                    'and checks every tensor')
        self.frame_encoder = MODELS.build(frame_encoder)
        self.freeze_frame_encoder = freeze_frame_encoder
        self.frame_encoder_checkpoint = frame_encoder_checkpoint
        self.embed_dims = embed_dims
        self.clip_transformer = ClipTransformer(frame_feat_dims, embed_dims,
                                                num_frames, num_layers,
                                                num_heads, mlp_ratio, dropout)
        if freeze_frame_encoder:
            self.frame_encoder.requires_grad_(False)
            self.frame_encoder.eval()

    def init_weights(self) -> None:
        """Initialise; load the 2D CNN from ``frame_encoder_checkpoint``.

        Raises:
            ValueError: The 2D CNN is frozen and no checkpoint is given
                (naming the config key), or the checkpoint does not hold
                every tensor of the 2D CNN (naming the file).
        """
        path = self.frame_encoder_checkpoint
        if not path and self.freeze_frame_encoder:
            raise ValueError(
                'TransformerClipEncoder: the frozen frame encoder has no '
                'weights, so the Transformer would read random features '
                'for the whole run. Set '
                'model.transformer.frame_encoder_checkpoint (as a '
                "recognizer's backbone: model.backbone."
                'frame_encoder_checkpoint) to a stage-0, MMAction2, '
                'mmpretrain or torchvision ResNet checkpoint, or to '
                f"'{RANDOM_FRAME_ENCODER}' to train with a random frozen "
                'encoder on purpose')
        super().init_weights()
        if path and path != RANDOM_FRAME_ENCODER:
            from ...utils.checkpoint import frame_encoder_state_dict
            self.frame_encoder.load_state_dict(
                frame_encoder_state_dict(path, self.frame_encoder))

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
