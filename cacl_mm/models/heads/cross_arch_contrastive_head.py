"""``CrossArchContrastiveHead``: InfoNCE across views and architectures."""
from __future__ import annotations
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule

from mmaction.registry import MODELS
from ..losses import info_nce, mean_pairwise_cosine
from ..utils.representations import (PAPER_PAIRS, REPRESENTATIONS, Arch,
                                     Representation, parse_pairs)

#: Negatives of one architecture: (K, D) keys and the (K,) video of each.
Negatives = Tuple[torch.Tensor, torch.Tensor]


@MODELS.register_module()
class CrossArchContrastiveHead(BaseModule):
    """InfoNCE over chosen pairs of the four representations.

    Each pair ``(a, b)`` adds the term ``InfoNCE(a, b, queue[b.arch])``:
    ``b`` is the positive of ``a`` and the negatives are past momentum keys
    of ``b``'s architecture. ``loss_contrast`` is ``loss_weight`` times the
    mean of the terms, as the released code
    averages over its four positives. It logs each term (``nce_<a>-<b>``)
    and the collapse monitor ``cos_<a>`` of each online representation. No
    weights: the model owns the necks and the ``KeyQueue``.

    Negatives (both on by default; each fixes a measured failure):

    * ``batch_negatives``: the batch's other positives are negatives too.
      Without them the online-online pair ``('cnn_q', 'trans_q')``
      collapses (its term near 0, every clip at one point): one point away
      from the slow queue is the cheapest solution.
    * ``mask_same_video``: a query never meets a key of its own video as a
      negative (the queue holds most videos of a small collection).

    Args:
        pairs (Sequence): ``(anchor, positive)`` names. Defaults to
            :data:`PAPER_PAIRS`; 3D-only MoCo is ``[('cnn_q', 'cnn_k')]``.
        temperature (float): Softmax temperature. Defaults to 0.07.
        loss_weight (float): Weight of ``loss_contrast``. Defaults to 1.
        batch_negatives (bool): In-batch negatives. Defaults to True.
        mask_same_video (bool): Mask same-video negatives (needs
            ``sample_idx`` in the data samples). Defaults to True.
    """

    def __init__(self,
                 pairs: Sequence[Sequence[Union[str, Representation]]] = (
                     PAPER_PAIRS),
                 temperature: float = 0.07,
                 loss_weight: float = 1.0,
                 batch_negatives: bool = True,
                 mask_same_video: bool = True) -> None:
        super().__init__()
        self.pairs = parse_pairs(pairs)
        if temperature <= 0:
            raise ValueError('contrast_head.temperature must be > 0, got '
                             f'{temperature}')
        self.temperature = temperature
        self.loss_weight = loss_weight
        self.batch_negatives = batch_negatives
        self.mask_same_video = mask_same_video

    @property
    def queue_archs(self) -> Tuple[Arch, ...]:
        """Architectures whose keys are negatives (those of a positive)."""
        positives = {b.arch for _, b in self.pairs}
        return tuple(a for a in Arch if a in positives)

    @property
    def needed(self) -> Tuple[Representation, ...]:
        """Representations the loss or the queues need."""
        names = {r for pair in self.pairs for r in pair}
        names |= {Representation(a, True) for a in self.queue_archs}
        return tuple(r for r in REPRESENTATIONS if r in names)

    def loss(
            self,
            embeddings: Mapping[Representation, torch.Tensor],
            negatives: Mapping[Arch, Negatives],
            sample_ids: Optional[torch.Tensor] = None
    ) -> Dict[str, torch.Tensor]:
        """InfoNCE over the configured pairs.

        Args:
            embeddings (Mapping): (N, D) unit vectors for :attr:`needed`.
            negatives (Mapping): Per architecture of :attr:`queue_archs`,
                its queue's (K, D) keys and (K,) video indices.
            sample_ids (torch.Tensor, optional): (N,) video of each clip.

        Returns:
            dict: ``loss_contrast``, the detached ``nce_<a>-<b>`` terms and
            ``cos_<a>`` per online representation.
        """
        losses = {}
        total = 0.
        ids = sample_ids if self.mask_same_video else None
        for anchor, positive in self.pairs:
            keys, key_ids = negatives[positive.arch]
            term = info_nce(embeddings[anchor], embeddings[positive],
                            keys.clone().detach(), self.temperature,
                            self.batch_negatives, ids, key_ids)
            losses[f'nce_{anchor}-{positive}'] = term.detach()
            total = total + term / len(self.pairs)
        for name in self.needed:
            if not name.momentum:
                losses[f'cos_{name}'] = mean_pairwise_cosine(embeddings[name])
        losses['loss_contrast'] = self.loss_weight * total
        return losses
