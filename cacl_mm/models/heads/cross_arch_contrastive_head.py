"""``CrossArchContrastiveHead``: InfoNCE across views and architectures."""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmaction.registry import MODELS
from mmaction.utils import OptConfigType

ARCHS = ('cnn', 'trans')
#: Representation names: architecture x (online on view 1 = q, momentum on view 2 = k).
REPRESENTATIONS = ('cnn_q', 'cnn_k', 'trans_q', 'trans_k')
#: The released code's positive pairs (models/vmoco_with_transformer.py).
PAPER_PAIRS = (('cnn_q', 'cnn_k'), ('cnn_q', 'trans_q'), ('cnn_q', 'trans_k'),
               ('trans_q', 'trans_k'))


def arch_of(name: str) -> str:
    """'cnn_q' -> 'cnn'."""
    return name.rsplit('_', 1)[0]


class ProjectionMLP(nn.Sequential):
    """MoCo v2 projection: Linear -> ReLU -> Linear.

    Args:
        in_channels (int): Input size.
        hidden_channels (int): Hidden size.
        out_channels (int): Embedding size.
    """

    def __init__(self, in_channels: int, hidden_channels: int,
                 out_channels: int) -> None:
        super().__init__(
            nn.Linear(in_channels, hidden_channels), nn.ReLU(inplace=True),
            nn.Linear(hidden_channels, out_channels))
        self.in_channels = in_channels


def info_nce(anchor: torch.Tensor, positive: torch.Tensor,
             negatives: torch.Tensor, temperature: float) -> torch.Tensor:
    """InfoNCE with one positive per anchor and shared negatives.

    Computed in float32 whatever the autocast dtype, so that logits divided
    by a small temperature do not overflow in half precision.

    Args:
        anchor (torch.Tensor): (N, D) L2-normalised anchors.
        positive (torch.Tensor): (N, D) L2-normalised positives.
        negatives (torch.Tensor): (K, D) L2-normalised negatives.
        temperature (float): Softmax temperature.

    Returns:
        torch.Tensor: Scalar mean cross-entropy of picking the positive.
    """
    anchor, positive = anchor.float(), positive.float()
    negatives = negatives.float()
    with torch.autocast(device_type=anchor.device.type, enabled=False):
        pos = (anchor * positive).sum(dim=1, keepdim=True)
        neg = anchor @ negatives.t()
        logits = torch.cat([pos, neg], dim=1) / temperature
        target = torch.zeros(anchor.shape[0], dtype=torch.long,
                             device=anchor.device)
        return F.cross_entropy(logits, target)


@MODELS.register_module()
class CrossArchContrastiveHead(BaseModule):
    """Projection heads per architecture and InfoNCE over chosen pairs.

    There are four representations: ``cnn_q`` and ``trans_q`` (online 3D CNN
    and online Transformer on view 1), ``cnn_k`` and ``trans_k`` (their
    momentum encoders on view 2). Each pair ``(a, b)`` in ``pairs`` adds the
    term ``InfoNCE(a, b, queue[arch(b)])``: ``b`` is the positive of ``a``
    and the negatives are past momentum keys of ``b``'s architecture.
    ``loss_contrast`` is ``loss_weight`` times the sum of the terms, so
    removing a pair removes exactly its term; each term is also logged as
    ``nce_<a>-<b>``.

    Configurations:
        - paper (default): :data:`PAPER_PAIRS`.
        - 3D-only MoCo: ``pairs=[('cnn_q', 'cnn_k')]``.
        - all pairs: every pair with at least one online side.

    Args:
        in_channels (dict): Input size per architecture (``cnn``,
            ``trans``): the concatenated original + shuffled features, so
            twice the encoder's feature size.
        hidden_channels (int): Projection hidden size. Defaults to 2048.
        out_channels (int): Embedding size. Defaults to 128.
        pairs (Sequence[Sequence[str]]): Positive pairs.
        temperature (float): Softmax temperature. Defaults to 0.07.
        queue_len (int): Keys per queue. Defaults to 6400.
        loss_weight (float): Weight of ``loss_contrast``. Defaults to 1.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: Dict[str, int],
                 hidden_channels: int = 2048,
                 out_channels: int = 128,
                 pairs: Sequence[Sequence[str]] = PAPER_PAIRS,
                 temperature: float = 0.07,
                 queue_len: int = 6400,
                 loss_weight: float = 1.0,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.pairs: List[Tuple[str, str]] = self._check_pairs(pairs)
        if temperature <= 0:
            raise ValueError('contrast_head.temperature must be > 0, got '
                             f'{temperature}')
        if queue_len < 1:
            raise ValueError(f'contrast_head.queue_len must be >= 1, got {queue_len}')
        self.temperature = temperature
        self.queue_len = queue_len
        self.loss_weight = loss_weight
        self.out_channels = out_channels

        used = {name for pair in self.pairs for name in pair}
        self.archs = tuple(a for a in ARCHS if any(arch_of(n) == a for n in used))
        missing = [a for a in self.archs if a not in in_channels]
        if missing:
            raise KeyError(f'contrast_head.in_channels needs a size for {missing} '
                           f'(used by pairs {self.pairs})')
        self.projections = nn.ModuleDict({
            arch: ProjectionMLP(in_channels[arch], hidden_channels,
                                out_channels)
            for arch in self.archs
        })
        # Every architecture that provides a positive also provides negatives.
        self.queue_archs = tuple(
            a for a in ARCHS if any(arch_of(b) == a for _, b in self.pairs))
        for arch in self.queue_archs:
            queue = F.normalize(torch.randn(queue_len, out_channels), dim=1)
            self.register_buffer(f'queue_{arch}', queue)
            self.register_buffer(f'queue_ptr_{arch}',
                                 torch.zeros(1, dtype=torch.long))

    @staticmethod
    def _check_pairs(pairs: Sequence[Sequence[str]]) -> List[Tuple[str, str]]:
        checked = []
        for pair in pairs:
            if len(pair) != 2 or any(n not in REPRESENTATIONS for n in pair):
                raise ValueError(
                    f'contrast_head.pairs: unknown pair {tuple(pair)}; names '
                    f'are {REPRESENTATIONS}')
            if pair[0] == pair[1]:
                raise ValueError(f'contrast_head.pairs: {tuple(pair)} pairs a '
                                 'representation with itself')
            if all(n.endswith('_k') for n in pair):
                raise ValueError(
                    f'contrast_head.pairs: {tuple(pair)} has no online side '
                    '(momentum keys carry no gradient)')
            checked.append((pair[0], pair[1]))
        if not checked:
            raise ValueError('contrast_head.pairs is empty')
        if len(set(checked)) != len(checked):
            raise ValueError(f'contrast_head.pairs has duplicates: {checked}')
        return checked

    @property
    def needed(self) -> Tuple[str, ...]:
        """Representations the loss or the queues need."""
        names = {n for pair in self.pairs for n in pair}
        names |= {f'{a}_k' for a in self.queue_archs}
        return tuple(n for n in REPRESENTATIONS if n in names)

    def queue(self, arch: str) -> torch.Tensor:
        """The (queue_len, out_channels) negative keys of ``arch``."""
        return getattr(self, f'queue_{arch}')

    def embed(self, projection: nn.Module, feats: torch.Tensor) -> torch.Tensor:
        """Project and L2-normalise.

        Args:
            projection (nn.Module): One of :attr:`projections` or its
                momentum copy.
            feats (torch.Tensor): (N, in_channels) features.

        Returns:
            torch.Tensor: (N, out_channels) unit vectors.
        """
        if feats.shape[1] != projection.in_channels:
            raise ValueError(
                f'contrast_head.in_channels: the projection expects '
                f'{projection.in_channels} channels but the encoder gives '
                f'{feats.shape[1]} (original + shuffled features)')
        return F.normalize(projection(feats), dim=1)

    def loss(self, embeddings: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """InfoNCE over the configured pairs.

        Args:
            embeddings (dict[str, torch.Tensor]): (N, out_channels) unit
                vectors for every name in :attr:`needed`.

        Returns:
            dict: ``loss_contrast`` and the detached per-pair terms.
        """
        losses = {}
        total = 0.
        for anchor, positive in self.pairs:
            term = info_nce(embeddings[anchor], embeddings[positive],
                            self.queue(arch_of(positive)).clone().detach(),
                            self.temperature)
            losses[f'nce_{anchor}-{positive}'] = term.detach()
            total = total + term
        losses['loss_contrast'] = self.loss_weight * total
        return losses

    @torch.no_grad()
    def enqueue(self, arch: str, keys: torch.Tensor) -> None:
        """Write keys into the circular queue of ``arch``, oldest first out.

        Args:
            arch (str): ``'cnn'`` or ``'trans'``.
            keys (torch.Tensor): (M, out_channels) keys of all ranks,
                M <= queue_len.
        """
        if arch not in self.queue_archs:
            return
        queue = self.queue(arch)
        ptr_buf = getattr(self, f'queue_ptr_{arch}')
        count = keys.shape[0]
        if count > self.queue_len:
            raise ValueError(
                f'contrast_head.queue_len={self.queue_len} is smaller than the '
                f'{count} keys of one step (batch size x world size)')
        ptr = int(ptr_buf)
        idx = (ptr + torch.arange(count, device=queue.device)) % self.queue_len
        queue[idx] = keys.to(queue.dtype)
        ptr_buf[0] = (ptr + count) % self.queue_len
