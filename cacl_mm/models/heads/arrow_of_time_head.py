"""``ArrowOfTimeHead``: a clip's pooled features against its time reversal."""
from __future__ import annotations
from typing import Dict

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmaction.registry import MODELS
from mmaction.utils import OptConfigType


@MODELS.register_module()
class ArrowOfTimeHead(BaseModule):
    """Two-way InfoNCE on the 3D CNN's pooled features: the clip's other
    view (positive) against the same clip played backwards (negative).

    The pooled features are what retrieval, the frozen probe and the
    fine-tune read. CACL's contrastive pairs both play forward, and the
    edit-distance head is solved by a shuffle's broken continuity, which a
    reversal keeps: the pooled features stay as blind to the sense of time
    as an untrained network's, and a reversed negative in the projection
    is told apart there alone (docs/recipe_rules.md, "The arrow of time").
    This head puts the reversal on the pooled features themselves, with
    cosine similarity and no projection. Like mmpretrain's
    ``ContrastiveHead`` it has no parameters.

    Args:
        temperature (float): Softmax temperature. Defaults to 0.1.
        loss_weight (float): Weight of ``loss_arrow``. Defaults to 1.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 temperature: float = 0.1,
                 loss_weight: float = 1.0,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if temperature <= 0:
            raise ValueError(
                f'arrow_head.temperature must be > 0, got {temperature}')
        self.temperature = temperature
        self.loss_weight = loss_weight

    def loss(self, forward_feats: torch.Tensor, reversed_feats: torch.Tensor,
             key_feats: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The loss and how often the other view is the nearer.

        Args:
            forward_feats (torch.Tensor): (N, D) view 1, online 3D CNN.
            reversed_feats (torch.Tensor): (N, D) view 1 played backwards,
                online 3D CNN.
            key_feats (torch.Tensor): (N, D) view 2, momentum 3D CNN.

        Returns:
            dict: ``loss_arrow`` (at least ln 2 when the reversal looks like
            the clip) and ``acc_arrow``, the fraction of clips nearer their
            other view than their reversal.
        """
        query = F.normalize(forward_feats.float(), dim=1)
        positive = (query * F.normalize(key_feats.float(), dim=1)).sum(1)
        negative = (query * F.normalize(reversed_feats.float(), dim=1)).sum(1)
        logits = torch.stack([positive, negative], dim=1) / self.temperature
        targets = logits.new_zeros(logits.shape[0], dtype=torch.long)
        loss = F.cross_entropy(logits, targets)
        acc = (positive > negative).float().mean()
        return dict(loss_arrow=self.loss_weight * loss, acc_arrow=acc.detach())
