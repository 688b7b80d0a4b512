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

    Reads the original clip's and the shuffled clip's 3D CNN features,
    given as their concatenation ``[f_orig | f_twin]``, and predicts the
    distance class (``med_label``: 0 for distance 0, d - 1 for d >= 2, so T
    classes for T frames).

    What the MLP sees is set by ``input_mode``:

    * ``'difference'`` (default): ``[|f_twin - f_orig| | f_twin - f_orig]``
      (same width). The distance is a property of the *pair*; two different
      clips differ far more than a clip and its twin, so an MLP on the
      concatenation fits clip content and stays at chance (``loss_sdp`` at
      ln T), while the difference removes the content the twins share and
      the head learns (docs/design.md, "Differences from the released
      code").
    * ``'concat'``: the paper's ``[f_orig | f_twin]``.

    Args:
        in_channels (int): Concatenated feature size (2 x backbone features).
        num_classes (int): Number of distance classes; must equal the clip
            length T.
        hidden_channels (int): Hidden size. Defaults to 512.
        input_mode (str): ``'difference'`` or ``'concat'``.
        dropout (float): Dropout before the classifier. Defaults to 0.
        loss_weight (float): Weight of ``loss_sdp``. Defaults to 1.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 hidden_channels: int = 512,
                 input_mode: str = 'difference',
                 dropout: float = 0.0,
                 loss_weight: float = 1.0,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_classes < 2:
            raise ValueError(
                f'sdp_head.num_classes must be >= 2, got {num_classes}')
        if input_mode not in ('difference', 'concat'):
            raise ValueError("sdp_head.input_mode must be 'difference' or "
                             f"'concat', got {input_mode!r}")
        if in_channels % 2:
            raise ValueError(f'sdp_head.in_channels={in_channels} must be '
                             'even: original + shuffled features')
        self.input_mode = input_mode
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.loss_weight = loss_weight
        self.classifier = nn.Sequential(
            nn.Linear(in_channels, hidden_channels), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(hidden_channels, num_classes))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """(N, in_channels) features -> (N, num_classes) logits."""
        return self.classifier[2:](self._hidden(feats))

    def _hidden(self, feats: torch.Tensor) -> torch.Tensor:
        """(N, in_channels) features -> (N, hidden) ReLU activations."""
        return self.classifier[:2](self.mlp_input(feats))

    def mlp_input(self, feats: torch.Tensor) -> torch.Tensor:
        """What the MLP reads (set by ``input_mode``).

        Args:
            feats (torch.Tensor): (N, in_channels) ``[f_orig | f_twin]``.

        Returns:
            torch.Tensor: (N, in_channels).
        """
        if feats.shape[1] != self.in_channels:
            raise ValueError(
                f'sdp_head.in_channels={self.in_channels} but the 3D CNN '
                'gives '
                f'{feats.shape[1]} channels (original + shuffled features)')
        if self.input_mode == 'concat':
            return feats
        original, shuffled = feats.chunk(2, dim=1)
        change = shuffled - original
        return torch.cat([change.abs(), change], dim=1)

    def loss(self, feats: torch.Tensor,
             labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Cross-entropy of the distance class and its top-1 accuracy.

        Args:
            feats (torch.Tensor): (N, in_channels) features.
            labels (torch.Tensor): (N,) ``med_label`` targets.

        Returns:
            dict: ``loss_sdp``; logged values in [0, 1]: ``acc_sdp`` and
            ``dead_sdp``, the fraction of hidden units that no clip of the
            batch activates (a head whose units all died stays at ln T).
        """
        hidden = self._hidden(feats)
        logits = self.classifier[2:](hidden).float()
        loss = F.cross_entropy(logits, labels)
        acc = (logits.argmax(dim=1) == labels).float().mean()
        dead = (hidden.detach() <= 0).all(dim=0).float().mean()
        return dict(
            loss_sdp=self.loss_weight * loss,
            acc_sdp=acc.detach(),
            dead_sdp=dead)
