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
      clips differ far more (relative feature difference 0.7-1.1) than a
      clip and its twin (0.13-0.54), so an MLP on the concatenation fits clip
      content and stays at chance (measured: ``loss_sdp`` stuck at ln T for
      400 iterations), while the difference removes the content the twins
      share and the head learns.
    * ``'concat'``: the paper's ``[f_orig | f_twin]``.
    * ``'both'``: ``[f_orig | |f_twin - f_orig| | f_twin - f_orig]``, the
      change and the clip it is relative to (how fast the clip moves sets
      how large a jump a shuffle makes).
    * ``'alignment'``: per-time-slot features (``model.sdp_temporal``) of
      both clips, ``num_slots`` slots each; the MLP reads the S x S cosines
      between every slot of the original and every slot of the twin
      (:meth:`alignment`). The distance is a function of the permutation,
      which this matrix shows directly (``tools/med_bounds.py``, 8 frames):
      an MLP given exact 8 x 8 permutation matrices learns the distance
      class of held-out shuffles without error, one given 4 x 4 (pairs of
      frames merged) 66% of them, while three clip-level statistics of a
      shuffle pin it down in at most 56%. On the tiny benchmark it reached
      3.2-3.6x chance where ``'difference'`` reached 2.5-2.9x, and cut the
      check's retrieval R@1 by 41-49% (docs/recipe_study.md, "What is still
      short").

    Args:
        in_channels (int): Concatenated feature size (2 x backbone features).
        num_classes (int): Number of distance classes; must equal the clip
            length T.
        hidden_channels (int): Hidden size. Defaults to 512.
        input_mode (str): ``'difference'``, ``'concat'``, ``'both'`` or
            ``'alignment'``.
        num_slots (int): Time slots per clip in the features
            (``'alignment'`` only). Defaults to 1.
        dropout (float): Dropout before the classifier. Defaults to 0.
        loss_weight (float): Weight of ``loss_sdp``. Defaults to 1.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 hidden_channels: int = 512,
                 input_mode: str = 'difference',
                 num_slots: int = 1,
                 dropout: float = 0.0,
                 loss_weight: float = 1.0,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_classes < 2:
            raise ValueError(
                f'sdp_head.num_classes must be >= 2, got {num_classes}')
        if input_mode not in ('difference', 'concat', 'both', 'alignment'):
            raise ValueError("sdp_head.input_mode must be 'difference', "
                             f"'concat', 'both' or 'alignment', got "
                             f'{input_mode!r}')
        if input_mode == 'alignment' and (num_slots < 2 or in_channels %
                                          (2 * num_slots)):
            raise ValueError(
                "sdp_head.input_mode='alignment' needs num_slots >= 2 time "
                f'slots dividing in_channels / 2 = {in_channels // 2}, got '
                f'num_slots={num_slots}')
        if in_channels % 2:
            raise ValueError(f'sdp_head.in_channels={in_channels} must be '
                             'even: original + shuffled features')
        self.input_mode = input_mode
        self.num_slots = num_slots
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.loss_weight = loss_weight
        head_in = {
            'both': in_channels * 3 // 2,
            'alignment': num_slots * num_slots
        }.get(input_mode, in_channels)
        self.classifier = nn.Sequential(
            nn.Linear(head_in, hidden_channels), nn.ReLU(inplace=True),
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
            torch.Tensor: (N, in_channels) for ``'difference'`` and
            ``'concat'``, (N, 3 in_channels / 2) for ``'both'``, (N, S * S)
            for ``'alignment'``.
        """
        if feats.shape[1] != self.in_channels:
            raise ValueError(
                f'sdp_head.in_channels={self.in_channels} but the 3D CNN '
                'gives '
                f'{feats.shape[1]} channels (original + shuffled features)')
        if self.input_mode == 'alignment':
            return self.alignment(feats)
        if self.input_mode == 'concat':
            return feats
        original, shuffled = feats.chunk(2, dim=1)
        change = shuffled - original
        parts = [change.abs(), change]
        if self.input_mode == 'both':
            parts.insert(0, original)
        return torch.cat(parts, dim=1)

    def alignment(self, feats: torch.Tensor) -> torch.Tensor:
        """Cosine between every time slot of a clip and of its twin.

        Args:
            feats (torch.Tensor): (N, 2 C S) per-slot features
                ``[f_orig | f_twin]``, each flattened from (C, S).

        Returns:
            torch.Tensor: (N, S * S) cosines; entry (s, t) compares slot s
            of the original with slot t of the twin, after removing the
            original's mean over time (the content all its slots share).
        """
        original, shuffled = (
            f.reshape(f.shape[0], -1, self.num_slots)
            for f in feats.chunk(2, dim=1))
        centre = original.mean(dim=2, keepdim=True)
        original = F.normalize(original - centre, dim=1)
        shuffled = F.normalize(shuffled - centre, dim=1)
        return torch.einsum('ncs,nct->nst', original, shuffled).flatten(1)

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
