"""The two contrastive encoders (3D CNN, clip Transformer) and their twins.

Each sample's shuffled twin is encoded in the same batch as the sample;
:func:`concat_twins` then gives the [original | twin] features the necks
and the shuffle-degree head read. A momentum encoder is a deep copy of one
of these made by :class:`mmengine.model.ExponentialMovingAverage`.
"""
from __future__ import annotations
from typing import Optional, Tuple

import torch
import torch.nn as nn

from .batch_shuffle import shuffle_bn_forward
from .pooling import pool_features


def shuffle_time(x: torch.Tensor, order: torch.Tensor,
                 dim: int) -> torch.Tensor:
    """Reorder the time axis of each sample.

    Args:
        x (torch.Tensor): (N, ...) with time on ``dim``.
        order (torch.Tensor): (N, T) frame order per sample.
        dim (int): The time dimension of ``x``.

    Returns:
        torch.Tensor: ``out[n, ..., t, ...] = x[n, ..., order[n, t], ...]``.
    """
    shape = [1] * x.ndim
    shape[0], shape[dim] = order.shape
    return torch.take_along_dim(x, order.view(shape), dim=dim)


def with_twins(x: torch.Tensor, order: torch.Tensor, dim: int) -> torch.Tensor:
    """(N, ...) -> (2N, ...): the samples, then their shuffled twins."""
    return torch.cat([x, shuffle_time(x, order, dim)])


def concat_twins(feats: torch.Tensor) -> torch.Tensor:
    """(2N, D) features of [originals; twins] -> (N, 2D) pairs."""
    original, shuffled = feats.chunk(2)
    return torch.cat([original, shuffled], dim=1)


def to_memory_format(x: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """``x`` in channels-last layout (5-D: ``channels_last_3d``) if asked."""
    if not channels_last or x.ndim not in (4, 5):
        return x
    return x.contiguous(memory_format=torch.channels_last_3d if x.ndim ==
                        5 else torch.channels_last)


def convert_channels_last(module: nn.Module) -> nn.Module:
    """Conv weights of ``module`` in channels-last layout (3-D and 2-D)."""
    for param in module.parameters():
        if param.ndim in (4, 5):
            param.data = to_memory_format(param.data, True)
    return module


class CNNEncoder(nn.Module):
    """A CNN backbone and its neck: the 3D CNN of CACL, the 2D of FrameMoCo.

    Holds references to modules the model owns.

    Args:
        backbone (nn.Module): Any MMAction2 backbone.
        neck (nn.Module, optional): Features -> unit embeddings.
        channels_last (bool): Feed the backbone channels-last inputs.
    """

    def __init__(self,
                 backbone: nn.Module,
                 neck: Optional[nn.Module] = None,
                 channels_last: bool = False) -> None:
        super().__init__()
        self.backbone = backbone
        self.neck = neck
        self.channels_last = channels_last

    def feature_maps(self, inputs: torch.Tensor) -> torch.Tensor:
        """Backbone inputs -> the backbone's output, unpooled."""
        return self.backbone(to_memory_format(inputs, self.channels_last))

    def features(self, inputs: torch.Tensor) -> torch.Tensor:
        """Backbone inputs -> (N, D) pooled features."""
        return pool_features(self.feature_maps(inputs))

    def twin_features(self, clips: torch.Tensor,
                      order: torch.Tensor) -> torch.Tensor:
        """Clips and their shuffled twins through the backbone, as one batch.

        Args:
            clips (torch.Tensor): (N, C, T, H, W) clips.
            order (torch.Tensor): (N, T) frame order of each twin.

        Returns:
            torch.Tensor: (N, 2D) ``[original | twin]`` pooled features.
        """
        return concat_twins(
            pool_features(self.feature_maps(with_twins(clips, order, 2))))

    def twin_and_reversed_features(
            self, clips: torch.Tensor,
            order: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Clips, their twins and their time reversals as one batch.

        One batch rather than a second pass so that BatchNorm normalises
        the reversals with the clips: a batch of reversals alone would
        have the direction all its clips share subtracted as batch mean.

        Args:
            clips (torch.Tensor): (N, C, T, H, W) clips.
            order (torch.Tensor): (N, T) frame order of each twin.

        Returns:
            tuple: (N, 2D) ``[original | twin]`` pooled features and the
            (N, D) pooled features of the reversed clips.
        """
        batch = torch.cat([with_twins(clips, order, 2), clips.flip(2)])
        feats = pool_features(self.feature_maps(batch))
        num_clips = clips.shape[0]
        return concat_twins(feats[:2 * num_clips]), feats[2 * num_clips:]

    @torch.no_grad()
    def twin_features_shuffle_bn(self, clips: torch.Tensor,
                                 order: torch.Tensor,
                                 num_splits: int) -> torch.Tensor:
        """A momentum encoder's (N, 2D) ``[original | twin]`` pooled
        features of (N, C, T, H, W) clips, with shuffle-BN."""
        return concat_twins(
            shuffle_bn_forward(self.features, with_twins(clips, order, 2),
                               num_splits))

    @torch.no_grad()
    def embed_twins_shuffle_bn(self, clips: torch.Tensor, order: torch.Tensor,
                               num_splits: int) -> torch.Tensor:
        """Keys of a momentum encoder: (N, C, T, H, W) clips and their twins
        through the backbone with shuffle-BN -> (N, E) embeddings."""
        return self.neck(
            self.twin_features_shuffle_bn(clips, order, num_splits))


class TransformerEncoder(nn.Module):
    """The clip Transformer and its neck (the frozen 2D CNN stays outside).

    Args:
        clip_transformer (nn.Module): Frame features -> clip embedding.
        neck (nn.Module): Features -> unit embeddings.
    """

    def __init__(self, clip_transformer: nn.Module, neck: nn.Module) -> None:
        super().__init__()
        self.clip_transformer = clip_transformer
        self.neck = neck

    def embed_twins(self, frames: torch.Tensor) -> torch.Tensor:
        """(2N, T, D_f) frames of [clips; twins] -> (N, E) embeddings."""
        return self.neck(concat_twins(self.clip_transformer(frames)))
