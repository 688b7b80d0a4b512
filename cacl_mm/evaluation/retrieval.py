"""Nearest-neighbour video retrieval: the protocol of the video SSL literature.

Every test video queries the train-split gallery by cosine similarity of
L2-normalised features; R@k counts a query as a hit when any of its k nearest
gallery videos shares its class (VCOP, CACL and their successors).
"""
from __future__ import annotations
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple

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


#: UCF101's video names, ``v_<Class>_g<group>_c<clip>.<ext>``: a group is
#: one actor and scene (in the generated benchmarks, one nuisance draw), and
#: a split never puts a group on both sides.
UCF101_VIDEO_NAME = re.compile(r'^v_.+_g(\d+)_c\d+\.\w+$')


def ucf101_groups(paths: Sequence[str]) -> Optional[List[int]]:
    """The group of every video named as UCF101's; None if one is not."""
    groups = []
    for path in paths:
        match = UCF101_VIDEO_NAME.match(osp.basename(path))
        if match is None:
            return None
        groups.append(int(match.group(1)))
    return groups


def neighbour_sources(features: torch.Tensor, labels: torch.Tensor,
                      groups: torch.Tensor) -> Dict[str, float]:
    """Where each video's nearest other video of the same split comes from.

    Retrieval across splits never meets a video of the query's group, so it
    cannot show whether the features follow the scene or the action; within
    one split they can. A neighbour of the same group but another class is
    scene-led, one of the same class from another group action-led.

    Args:
        features (torch.Tensor): (V, D) features of one split, V >= 2.
        labels (torch.Tensor): (V,) classes.
        groups (torch.Tensor): (V,) groups.

    Returns:
        dict: Fractions of videos (summing to 1) whose nearest neighbour is
        ``same_class_same_group``, ``same_group_other_class``,
        ``same_class_other_group`` or ``other_class_other_group``.
    """
    feats = F.normalize(features.float(), dim=1)
    sim = (feats @ feats.t()).fill_diagonal_(float('-inf'))
    nearest = sim.argmax(1)
    same_class = labels[nearest] == labels
    same_group = groups[nearest] == groups
    kinds = {
        'same_class_same_group': same_class & same_group,
        'same_group_other_class': same_group & ~same_class,
        'same_class_other_group': same_class & ~same_group,
        'other_class_other_group': ~same_class & ~same_group,
    }
    return {k: v.float().mean().item() for k, v in kinds.items()}
