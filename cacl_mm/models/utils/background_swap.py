"""Views whose background comes from another clip of the batch.

In a collection whose videos come in groups that share a scene (UCF101's
``_gNN_`` groups, the benchmark family's nuisance draws), both views of a
clip show its group's scene, and most of a clip's negatives show other
scenes: the scene alone tells the positive from most negatives, and the
features learn it (``docs/recipe_rules.md``, "Where the neighbours come
from"). Swapping a view's background keeps what moves and replaces the
rest, so that the positive pair shares the motion but not the scene.

The foreground is where the clip changes over time: the pixels with the
largest temporal standard deviation (FAME, Ding et al. 2022, takes its
foreground from frame differences the same way). The new background is
one still frame of another clip of the batch: a scene with nothing
moving, so the swap adds no motion of its own.
"""
from __future__ import annotations
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F


def motion_masks(clips: torch.Tensor,
                 foreground_fraction: float,
                 dilation: int = 1) -> torch.Tensor:
    """The pixels of each clip that change most over time.

    Args:
        clips (Tensor): (N, C, T, H, W) float.
        foreground_fraction (float): Share of the H x W pixels kept as
            foreground before the dilation, in (0, 1].
        dilation (int): Pixels the mask grows by on every side (a max
            filter), so that an object's edge stays with it.

    Returns:
        Tensor: (N, 1, 1, H, W) bool, True on the foreground.
    """
    if not 0 < foreground_fraction <= 1:
        raise ValueError('foreground_fraction must be in (0, 1], got '
                         f'{foreground_fraction}')
    n, c, t, h, w = clips.shape
    # A 3x3 blur first: pixel noise drawn anew in every frame changes
    # single pixels, a moving object a patch of them.
    frames = clips.transpose(1, 2).reshape(n * t, c, h, w)
    blurred = F.avg_pool2d(
        frames, 3, stride=1, padding=1, count_include_pad=False)
    change = blurred.reshape(n, t, c, h, w).std(dim=1).mean(dim=1)
    change = change.reshape(n, h * w)  # (N, H*W)
    keep = max(1, math.ceil(foreground_fraction * h * w))
    threshold = change.topk(keep, dim=1).values[:, -1:]  # (N, 1)
    mask = (change >= threshold).to(clips.dtype).reshape(n, 1, h, w)
    if dilation > 0:
        mask = F.max_pool2d(
            mask, kernel_size=2 * dilation + 1, stride=1, padding=dilation)
    return mask.bool().reshape(n, 1, 1, h, w)


def swap_backgrounds(clips: torch.Tensor,
                     chosen: torch.Tensor,
                     partners: torch.Tensor,
                     foreground_fraction: float,
                     dilation: int = 1) -> torch.Tensor:
    """Put each chosen clip's foreground on its partner's middle frame.

    Args:
        clips (Tensor): (N, C, T, H, W) float views.
        chosen (Tensor): (N,) bool, the clips to change.
        partners (Tensor): (N,) long, whose middle frame becomes each
            clip's background (a clip's own index leaves it unchanged).
        foreground_fraction (float): See :func:`motion_masks`.
        dilation (int): See :func:`motion_masks`.

    Returns:
        Tensor: (N, C, T, H, W), a new tensor; unchosen clips as they were.
    """
    if not chosen.any():
        return clips
    foreground = motion_masks(clips, foreground_fraction, dilation)
    middle = clips[:, :, clips.shape[2] // 2:clips.shape[2] // 2 + 1]
    swapped = torch.where(foreground, clips, middle[partners])
    return torch.where(chosen.view(-1, 1, 1, 1, 1), swapped, clips)


def draw_partners(
    batch_size: int,
    prob: float,
    generator: Optional[torch.Generator] = None
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Which clips of a batch to swap, and each one's partner.

    Args:
        batch_size (int): N.
        prob (float): Chance that a clip is swapped.
        generator (torch.Generator, optional): CPU random source.

    Returns:
        tuple[Tensor, Tensor]: (N,) bool chosen and (N,) long partners,
        never the clip itself (a batch of one swaps nothing).
    """
    if batch_size < 2:
        return (torch.zeros(batch_size,
                            dtype=torch.bool), torch.arange(batch_size))
    chosen = torch.rand(batch_size, generator=generator) < prob
    offsets = torch.randint(1, batch_size, (batch_size, ), generator=generator)
    partners = (torch.arange(batch_size) + offsets) % batch_size
    return chosen, partners
