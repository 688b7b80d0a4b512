"""``ShuffleDegreeHead``: classify the edit distance of a shuffled twin."""
from __future__ import annotations

from typing import Dict

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmaction.registry import MODELS
from mmaction.utils import OptConfigType


@MODELS.register_module()
class ShuffleDegreeHead(BaseModule):
    """MLP classifier of the minimum edit distance (shuffle degree).

    Reads the concatenation of the original clip's and the shuffled clip's
    3D CNN features and predicts the distance class (``med_label``: 0 for
    distance 0, d - 1 for d >= 2, so T classes for T frames).

    Args:
        in_channels (int): Concatenated feature size (2 x backbone features).
        num_classes (int): Number of distance classes; must equal the clip
            length T.
        hidden_channels (int): Hidden size. Defaults to 512.
        dropout (float): Dropout before the classifier. Defaults to 0.
        loss_weight (float): Weight of ``loss_sdp``. Defaults to 1.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 hidden_channels: int = 512,
                 dropout: float = 0.0,
                 loss_weight: float = 1.0,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_classes < 2:
            raise ValueError(f'sdp_head.num_classes must be >= 2, got {num_classes}')
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.loss_weight = loss_weight
        self.classifier = nn.Sequential(
            nn.Linear(in_channels, hidden_channels), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(hidden_channels, num_classes))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """(N, in_channels) features -> (N, num_classes) logits."""
        if feats.shape[1] != self.in_channels:
            raise ValueError(
                f'sdp_head.in_channels={self.in_channels} but the 3D CNN gives '
                f'{feats.shape[1]} channels (original + shuffled features)')
        return self.classifier(feats)

    def loss(self, feats: torch.Tensor,
             labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Cross-entropy of the distance class and its top-1 accuracy.

        Args:
            feats (torch.Tensor): (N, in_channels) features.
            labels (torch.Tensor): (N,) ``med_label`` targets.

        Returns:
            dict: ``loss_sdp`` and ``acc_sdp`` (a logged value, in [0, 1]).
        """
        logits = self(feats).float()
        loss = F.cross_entropy(logits, labels)
        acc = (logits.argmax(dim=1) == labels).float().mean()
        return dict(loss_sdp=self.loss_weight * loss, acc_sdp=acc.detach())
