"""One pooling step from a backbone output to feature vectors."""
from __future__ import annotations
from typing import Sequence, Union

import torch


def select_stage(feats: Union[torch.Tensor, Sequence[torch.Tensor]],
                 stage: int = -1) -> torch.Tensor:
    """A backbone output, or stage ``stage`` (default the last) of a tuple
    of stages (a backbone with several ``out_indices``)."""
    return feats[stage] if isinstance(feats, (tuple, list)) else feats


def pool_features(feats: Union[torch.Tensor, Sequence[torch.Tensor]],
                  keep_time: bool = False,
                  stage: int = -1) -> torch.Tensor:
    """Global-average-pool a backbone output to (N, D).

    Every caller (the contrastive encoders, feature extraction for
    retrieval, the Transformer's frame encoder) pools through here.

    Args:
        feats (torch.Tensor | Sequence[torch.Tensor]): (N, C, [T,] H, W)
            feature maps (ResNet3d, R(2+1)D, 2D ResNet), (N, D) vectors
            (C3D's fc7) or a tuple of stages.
        keep_time (bool): Pool (N, C, T, H, W) maps over space only and
            flatten to (N, C * T): one feature vector per time slot.
        stage (int): Which stage of a tuple is pooled. Defaults to the last.

    Returns:
        torch.Tensor: (N, D) features; (N, C * T) with ``keep_time``.
    """
    feats = select_stage(feats, stage)
    if keep_time:
        if feats.ndim != 5:
            raise ValueError(
                'a time-resolved feature needs (N, C, T, H, W) feature maps; '
                f'this backbone gives shape {tuple(feats.shape)}')
        return feats.mean(dim=(3, 4)).flatten(1)
    if feats.ndim > 2:
        feats = feats.flatten(2).mean(dim=2)
    return feats


def mean_over_clips(encode, inputs: torch.Tensor,
                    input_ndim: int) -> torch.Tensor:
    """Encode (N, M, ...) inputs clip by clip and average the M features.

    Args:
        encode (Callable): (B, ...) inputs -> (B, D) features.
        inputs (torch.Tensor): (N, ...) inputs of ``input_ndim`` dimensions,
            or (N, M, ...) with M clips per sample.
        input_ndim (int): Dimensions of one input batch (5 for NCTHW).

    Returns:
        torch.Tensor: (N, D) features.
    """
    if inputs.ndim != input_ndim + 1:
        return encode(inputs)
    batch, clips = inputs.shape[:2]
    feats = encode(inputs.flatten(0, 1))
    return feats.view(batch, clips, -1).mean(dim=1)
