"""``CrossArchContrastiveHead``: InfoNCE across views and architectures."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

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
    """Projection: Linear -> [BatchNorm] -> ReLU -> Linear.

    With ``norm=True`` (default) the hidden layer is batch-normalised, as in
    SimCLR and MoCo v3; ``norm=False`` is MoCo v2's plain MLP. Why it
    matters here: pooled ReLU features of a freshly initialised 3D CNN
    point in nearly one direction (mean cosine 0.995 between different
    clips on the demo benchmark), and the Transformer's LayerNorm-ed CLS
    outputs too, so a plain MLP maps every clip to one embedding (measured
    cosine 0.999 at iteration 5) and InfoNCE has no gradient to leave that
    point. Centring the hidden layer over the batch spreads the embeddings
    from the first step.

    Args:
        in_channels (int): Input size.
        hidden_channels (int): Hidden size.
        out_channels (int): Embedding size.
        norm (bool): BatchNorm on the hidden layer. Defaults to True.
    """

    def __init__(self, in_channels: int, hidden_channels: int,
                 out_channels: int, norm: bool = True) -> None:
        layers = [nn.Linear(in_channels, hidden_channels, bias=not norm)]
        if norm:
            layers.append(nn.BatchNorm1d(hidden_channels))
        layers += [nn.ReLU(inplace=True),
                   nn.Linear(hidden_channels, out_channels)]
        super().__init__(*layers)
        self.in_channels = in_channels


def info_nce(anchor: torch.Tensor,
             positive: torch.Tensor,
             negatives: torch.Tensor,
             temperature: float,
             batch_negatives: bool = False,
             anchor_ids: Optional[torch.Tensor] = None,
             negative_ids: Optional[torch.Tensor] = None) -> torch.Tensor:
    """InfoNCE with one positive per anchor.

    The negatives of anchor i are the ``negatives`` (a queue) and, with
    ``batch_negatives``, the other samples' positives ``positive[j], j != i``
    (as SimCLR, CLIP and MoCo v3). Negatives that come from the anchor's own
    video (equal ids) are left out: they are positives in disguise.

    Computed in float32 whatever the autocast dtype, so that logits divided
    by a small temperature do not overflow in half precision.

    Args:
        anchor (torch.Tensor): (N, D) L2-normalised anchors.
        positive (torch.Tensor): (N, D) L2-normalised positives.
        negatives (torch.Tensor): (K, D) L2-normalised negatives.
        temperature (float): Softmax temperature.
        batch_negatives (bool): Add the batch's other positives.
        anchor_ids (torch.Tensor, optional): (N,) video index of each
            anchor; with ``negative_ids``, masks same-video negatives.
        negative_ids (torch.Tensor, optional): (K,) video index of each
            negative, -1 where unknown.

    Returns:
        torch.Tensor: Scalar mean cross-entropy of picking the positive.
    """
    anchor, positive = anchor.float(), positive.float()
    negatives = negatives.float()
    with torch.autocast(device_type=anchor.device.type, enabled=False):
        queue_logits = anchor @ negatives.t()
        if anchor_ids is not None and negative_ids is not None:
            queue_logits = queue_logits.masked_fill(
                anchor_ids[:, None] == negative_ids[None, :], float('-inf'))
        if batch_negatives:
            # Column i of row i is the positive, the other columns negatives.
            batch_logits = anchor @ positive.t()
            if anchor_ids is not None:
                same_video = anchor_ids[:, None] == anchor_ids[None, :]
                same_video.fill_diagonal_(False)
                batch_logits = batch_logits.masked_fill(
                    same_video, float('-inf'))
            logits = torch.cat([batch_logits, queue_logits], dim=1)
            target = torch.arange(anchor.shape[0], device=anchor.device)
        else:
            pos = (anchor * positive).sum(dim=1, keepdim=True)
            logits = torch.cat([pos, queue_logits], dim=1)
            target = torch.zeros(anchor.shape[0], dtype=torch.long,
                                 device=anchor.device)
        return F.cross_entropy(logits / temperature, target)


def mean_pairwise_cosine(embeddings: torch.Tensor) -> torch.Tensor:
    """Mean cosine between the embeddings of different samples.

    A collapse monitor: near 0 for embeddings spread over the sphere, 1 when
    every clip maps to one point.

    Args:
        embeddings (torch.Tensor): (N, D) embeddings, N >= 2.

    Returns:
        torch.Tensor: Scalar, detached.
    """
    unit = F.normalize(embeddings.detach().float(), dim=1)
    count = unit.shape[0]
    if count < 2:
        return unit.new_tensor(float('nan'))
    total = unit.sum(dim=0)
    # sum_{i != j} u_i . u_j = |sum u|^2 - sum |u_i|^2
    return (total @ total - count) / (count * (count - 1))


@MODELS.register_module()
class CrossArchContrastiveHead(BaseModule):
    """Projection heads per architecture and InfoNCE over chosen pairs.

    There are four representations: ``cnn_q`` and ``trans_q`` (online 3D CNN
    and online Transformer on view 1), ``cnn_k`` and ``trans_k`` (their
    momentum encoders on view 2). Each pair ``(a, b)`` in ``pairs`` adds the
    term ``InfoNCE(a, b, queue[arch(b)])``: ``b`` is the positive of ``a``
    and the negatives are past momentum keys of ``b``'s architecture.
    ``loss_contrast`` is ``loss_weight`` times the mean of the terms
    (weighted by ``pair_weights``), as the released code averages its loss
    over the four positives: the balance between the contrastive and the
    edit-distance losses does not change with the number of pairs. Each
    term is also logged as ``nce_<a>-<b>``.

    Negatives (both on by default, deviations from the released code that
    each fix a measured failure):

    * ``batch_negatives``: the other clips' positives in the batch are
      negatives too. Without them the online-online pair
      ``('cnn_q', 'trans_q')`` collapses: both sides get gradients and the
      queue holds only slowly moving momentum keys, so mapping every clip to
      one point away from the queue is the cheapest solution (measured on
      the demo: that term fell to 0.03 while the others sat at ln K, and the
      cosine between 3D embeddings of different clips rose from 0.50 to
      1.00). In-batch negatives come from the current encoders, so a
      collapse costs ln N instead of paying off.
    * ``mask_same_video``: the queue stores the dataset index of each key's
      video and a query never meets a key of its own video as a negative.
      On a small collection the queue holds most of the videos (80% in the
      old demo), so most queries met their own previous-epoch key as a
      "negative"; masking makes a long queue safe.

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
        projection_norm (bool): BatchNorm in the projections' hidden layer
            (see :class:`ProjectionMLP`). Defaults to True.
        pairs (Sequence[Sequence[str]]): Positive pairs.
        temperature (float): Softmax temperature. Defaults to 0.07.
        queue_len (int): Keys per queue. Defaults to 6400.
        loss_weight (float): Weight of ``loss_contrast``. Defaults to 1.
        pair_weights (Sequence[float], optional): A weight per pair (same
            order as ``pairs``); None weighs every pair 1.
        batch_negatives (bool): In-batch negatives. Defaults to True.
        mask_same_video (bool): Never use a key of the query's own video as
            a negative (needs ``sample_idx`` in the data samples). Defaults
            to True.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: Dict[str, int],
                 hidden_channels: int = 2048,
                 out_channels: int = 128,
                 projection_norm: bool = True,
                 pairs: Sequence[Sequence[str]] = PAPER_PAIRS,
                 temperature: float = 0.07,
                 queue_len: int = 6400,
                 loss_weight: float = 1.0,
                 pair_weights: Optional[Sequence[float]] = None,
                 batch_negatives: bool = True,
                 mask_same_video: bool = True,
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
        if pair_weights is None:
            pair_weights = [1.0] * len(self.pairs)
        if len(pair_weights) != len(self.pairs):
            raise ValueError(
                f'contrast_head.pair_weights has {len(pair_weights)} values '
                f'for {len(self.pairs)} pairs {self.pairs}')
        self.pair_weights = [float(w) for w in pair_weights]
        self.out_channels = out_channels
        self.batch_negatives = batch_negatives
        self.mask_same_video = mask_same_video

        used = {name for pair in self.pairs for name in pair}
        self.archs = tuple(a for a in ARCHS if any(arch_of(n) == a for n in used))
        missing = [a for a in self.archs if a not in in_channels]
        if missing:
            raise KeyError(f'contrast_head.in_channels needs a size for {missing} '
                           f'(used by pairs {self.pairs})')
        self.projections = nn.ModuleDict({
            arch: ProjectionMLP(in_channels[arch], hidden_channels,
                                out_channels, projection_norm)
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
            # Dataset index of each key's video; -1: unknown (initial keys).
            self.register_buffer(f'queue_ids_{arch}',
                                 torch.full((queue_len, ), -1,
                                            dtype=torch.long))

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

    def queue_ids(self, arch: str) -> torch.Tensor:
        """The (queue_len,) video index of each key of ``arch`` (-1: none)."""
        return getattr(self, f'queue_ids_{arch}')

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

    def loss(self,
             embeddings: Dict[str, torch.Tensor],
             sample_ids: Optional[torch.Tensor] = None
             ) -> Dict[str, torch.Tensor]:
        """InfoNCE over the configured pairs.

        Args:
            embeddings (dict[str, torch.Tensor]): (N, out_channels) unit
                vectors for every name in :attr:`needed`.
            sample_ids (torch.Tensor, optional): (N,) dataset index of each
                clip's video, for ``mask_same_video``.

        Returns:
            dict: ``loss_contrast``, the detached per-pair terms
            ``nce_<a>-<b>`` and, per online representation, the collapse
            monitor ``cos_<name>`` (mean cosine between different clips).
        """
        losses = {}
        total = 0.
        masking = self.mask_same_video and sample_ids is not None
        for (anchor, positive), weight in zip(self.pairs, self.pair_weights):
            arch = arch_of(positive)
            term = info_nce(
                embeddings[anchor], embeddings[positive],
                self.queue(arch).clone().detach(), self.temperature,
                batch_negatives=self.batch_negatives,
                anchor_ids=sample_ids if masking else None,
                negative_ids=self.queue_ids(arch) if masking else None)
            losses[f'nce_{anchor}-{positive}'] = term.detach()
            total = total + weight * term / sum(self.pair_weights)
        for name in self.needed:
            if name.endswith('_q'):
                losses[f'cos_{name}'] = mean_pairwise_cosine(embeddings[name])
        losses['loss_contrast'] = self.loss_weight * total
        return losses

    @torch.no_grad()
    def enqueue(self, arch: str, keys: torch.Tensor,
                ids: Optional[torch.Tensor] = None) -> None:
        """Write keys into the circular queue of ``arch``, oldest first out.

        Args:
            arch (str): ``'cnn'`` or ``'trans'``.
            keys (torch.Tensor): (M, out_channels) keys of all ranks,
                M <= queue_len.
            ids (torch.Tensor, optional): (M,) video index of each key;
                None stores -1 (never masked).
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
        self.queue_ids(arch)[idx] = (-1 if ids is None else ids.to(
            device=queue.device, dtype=torch.long))
        ptr_buf[0] = (ptr + count) % self.queue_len
