"""``ProjectionNeck``: MLP from encoder features to contrastive embeddings."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmaction.registry import MODELS
from mmaction.utils import OptConfigType


@MODELS.register_module()
class ProjectionNeck(BaseModule):
    """Linear -> [BatchNorm] -> ReLU -> Linear, then L2 normalisation.

    One neck per encoder (CACL has a 3D CNN neck and a Transformer neck),
    as mmpretrain's ``NonLinearNeck``; the momentum encoder holds a copy.

    With ``norm=True`` (default) the hidden layer is batch-normalised, as in
    SimCLR and MoCo v3; ``norm=False`` is MoCo v2's plain MLP. Why it
    matters here: pooled ReLU features of a freshly initialised 3D CNN point
    in nearly one direction, and the Transformer's LayerNorm-ed CLS outputs
    too, so a plain MLP maps every clip to one embedding within a few steps
    and InfoNCE has no gradient to leave that point (docs/design.md).
    Centring the hidden layer over the batch spreads the embeddings from the
    first step.

    Args:
        in_channels (int): Input size: for CACL the concatenated original +
            shuffled features, twice the encoder's feature size.
        hidden_channels (int): Hidden size. Defaults to 2048.
        out_channels (int): Embedding size. Defaults to 128.
        norm (bool): BatchNorm on the hidden layer. Defaults to True.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: int = 2048,
                 out_channels: int = 128,
                 norm: bool = True,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.out_channels = out_channels
        layers = [nn.Linear(in_channels, hidden_channels, bias=not norm)]
        if norm:
            layers.append(nn.BatchNorm1d(hidden_channels))
        layers += [
            nn.ReLU(inplace=True),
            nn.Linear(hidden_channels, out_channels)
        ]
        self.mlp = nn.Sequential(*layers)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """(N, in_channels) features -> (N, out_channels) unit vectors."""
        if feats.shape[1] != self.in_channels:
            raise ValueError(
                f'neck.in_channels={self.in_channels} but the encoder gives '
                f'{feats.shape[1]} channels (original + shuffled features)')
        return F.normalize(self.mlp(feats), dim=1)
