"""InfoNCE with one positive per anchor, and a collapse monitor."""
from __future__ import annotations
from typing import Optional

import torch
import torch.nn.functional as F


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
            target = torch.zeros(
                anchor.shape[0], dtype=torch.long, device=anchor.device)
        return F.cross_entropy(logits / temperature, target)


def mean_pairwise_cosine(embeddings: torch.Tensor) -> torch.Tensor:
    """Mean cosine between the embeddings of different samples.

    A collapse monitor: near 0 for embeddings spread over the sphere, 1 when
    every clip maps to one point. It equals (N |m|^2 - 1) / (N - 1) for the
    mean m of the unit embeddings, so it reads the offset that they all
    share: a collapse raises it, and so does an offset that InfoNCE cannot
    see (it adds the same to every logit) but that softens the logits like
    a higher temperature (``docs/recipe_rules.md``, "The swap's crowding").

    Args:
        embeddings (torch.Tensor): (N, D) embeddings, N >= 2.

    Returns:
        torch.Tensor: Scalar, detached (NaN for N < 2).
    """
    unit = F.normalize(embeddings.detach().float(), dim=1)
    count = unit.shape[0]
    if count < 2:
        return unit.new_tensor(float('nan'))
    total = unit.sum(dim=0)
    # sum_{i != j} u_i . u_j = |sum u|^2 - sum |u_i|^2
    return (total @ total - count) / (count * (count - 1))
