"""Nearest-neighbour video retrieval: the protocol of the video SSL literature.

Every test video queries the train-split gallery by cosine similarity of
L2-normalised features; R@k counts a query as a hit when any of its k nearest
gallery videos shares its class (VCOP, CACL and their successors).
"""
from __future__ import annotations
from typing import Dict, Sequence, Tuple

import torch
import torch.nn.functional as F


def topk_neighbours(
        queries: torch.Tensor,
        gallery: torch.Tensor,
        k: int,
        chunk_size: int = 4096) -> Tuple[torch.Tensor, torch.Tensor]:
    """Cosine-similarity top-k, one matrix product per chunk of queries.

    Args:
        queries (torch.Tensor): (Q, D) features.
        gallery (torch.Tensor): (G, D) features.
        k (int): Neighbours per query (capped at G).
        chunk_size (int): Queries per product, bounding memory to
            ``chunk_size x G`` similarities.

    Returns:
        tuple: (Q, k) similarities and (Q, k) gallery indices, best first.
    """
    queries = F.normalize(queries.float(), dim=1)
    gallery = F.normalize(gallery.float(), dim=1)
    k = min(k, gallery.shape[0])
    scores, indices = [], []
    for start in range(0, queries.shape[0], chunk_size):
        sim = queries[start:start + chunk_size] @ gallery.t()
        top = sim.topk(k, dim=1)
        scores.append(top.values)
        indices.append(top.indices)
    return torch.cat(scores), torch.cat(indices)


def recall_at_k(
    query_labels: torch.Tensor,
    gallery_labels: torch.Tensor,
    neighbours: torch.Tensor,
    ks: Sequence[int] = (1, 5, 10, 20, 50)
) -> Dict[str, float]:
    """Fraction of queries with a same-class video among their k neighbours.

    Args:
        query_labels (torch.Tensor): (Q,) labels.
        gallery_labels (torch.Tensor): (G,) labels.
        neighbours (torch.Tensor): (Q, K) gallery indices, best first,
            K >= max(ks) unless the gallery is smaller.
        ks (Sequence[int]): The k values.

    Returns:
        dict: ``{'R@k': fraction in [0, 1]}``.
    """
    hits = gallery_labels[neighbours] == query_labels[:, None]  # (Q, K)
    first_hit = torch.where(
        hits.any(1),
        hits.float().argmax(1), torch.full_like(query_labels, hits.shape[1]))
    return {f'R@{k}': (first_hit < k).float().mean().item() for k in ks}
