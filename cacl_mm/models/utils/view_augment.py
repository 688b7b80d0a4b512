"""Batched torch versions of MMAction2's view augmentations.

The pixel arithmetic of MMAction2's ``Resize`` / ``RandomResizedCrop`` /
``Flip`` / ``ColorJitter`` (numpy and OpenCV, one frame at a time, in the
data workers) done on whole clips and on many clips at once, on whatever
device the model runs on. The random parameters are drawn on the CPU by
:class:`~cacl_mm.datasets.transforms.DrawViewAugmentations`; these
functions only apply them, so the randomness stays where MMAction2's is
(seeded per worker, reproducible on resume, distinct per DDP rank).

Each step keeps MMAction2's uint8 rounding: a resize rounds to the nearest
grey level, a jitter ends truncated to 0..255, and the hue step works on
OpenCV's 8-bit HSV (hue 0..179, with its fixed-point rounding). The tests
compare every function with the MMAction2 / OpenCV computation it stands
for (tests/test_view_augmentation.py).

Clips are (N, C, T, H, W) float tensors holding 0..255 RGB values.
"""
from __future__ import annotations
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F

from ...utils.view_augmentation_rows import VIEW_AUGMENTATION_FIELDS

#: ITU-R 601 luma, as MMAction2's ``ColorJitter.rgb_to_grayscale``.
GRAY_WEIGHTS = (0.2989, 0.587, 0.114)
#: OpenCV's fixed-point shift in the 8-bit RGB -> HSV conversion.
_HSV_SHIFT = 12


def resize_frames(clips: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of every frame, rounded to grey levels.

    ``mmcv.imresize(..., interpolation='bilinear')`` (OpenCV's
    ``INTER_LINEAR``: half-pixel centres, no antialiasing) on uint8 frames.
    On the CPU, torch's own uint8 kernel (channels-last, as fast as
    OpenCV's); elsewhere in float, rounded. Both agree with OpenCV within
    one grey level.

    Args:
        clips (Tensor): (N, C, T, H, W) uint8.
        size (tuple[int, int]): (height, width) of the output.

    Returns:
        Tensor: (N, C, T, height, width) uint8.
    """
    n, c, t, h, w = clips.shape
    if (h, w) == tuple(size):
        return clips
    frames = clips.transpose(1, 2).reshape(n * t, c, h, w)
    if frames.device.type == 'cpu':
        frames = F.interpolate(
            frames.contiguous(memory_format=torch.channels_last),
            size=tuple(size),
            mode='bilinear',
            align_corners=False)
    else:
        frames = F.interpolate(
            frames.float(),
            size=tuple(size),
            mode='bilinear',
            align_corners=False).round_().clamp_(0, 255).to(torch.uint8)
    return frames.reshape(n, t, c, *size).transpose(1, 2)


def to_gray(clip: torch.Tensor, keepdim: bool = False) -> torch.Tensor:
    """(3, ...) RGB -> luma (1, ...) or (...), as MMAction2's weights."""
    r, g, b = clip.unbind(0)
    gray = GRAY_WEIGHTS[0] * r + GRAY_WEIGHTS[1] * g + GRAY_WEIGHTS[2] * b
    return gray.unsqueeze(0) if keepdim else gray


def adjust_brightness_(clip: torch.Tensor, factor: float) -> torch.Tensor:
    """``img * b``, in place; ``clip`` is (3, T, H, W) float."""
    return clip.mul_(factor)


def adjust_contrast_(clip: torch.Tensor, factor: float) -> torch.Tensor:
    """Blend with each frame's mean luma (MMAction2: per frame), in place."""
    mean = to_gray(clip).mean(dim=(1, 2)).view(1, -1, 1, 1)
    return clip.mul_(factor).add_(mean, alpha=1 - factor)


def adjust_saturation_(clip: torch.Tensor, factor: float) -> torch.Tensor:
    """Blend with each pixel's luma, in place."""
    gray = to_gray(clip, keepdim=True)
    return clip.mul_(factor).add_(gray, alpha=1 - factor)


def rgb_to_hsv_u8(clips: torch.Tensor) -> torch.Tensor:
    """OpenCV's ``COLOR_RGB2HSV`` on 8-bit values (hue 0..179).

    OpenCV divides with tables of rounded 12-bit reciprocals; the same
    integer arithmetic here gives its exact result.

    Args:
        clips (Tensor): (N, 3, ...) integer-valued 0..255 RGB.

    Returns:
        Tensor: (N, 3, ...) int32 H (0..179), S, V (0..255).
    """
    rgb = clips.to(torch.int32)
    r, g, b = rgb.unbind(1)
    v = torch.maximum(torch.maximum(r, g), b)
    diff = v - torch.minimum(torch.minimum(r, g), b)
    one = 1 << _HSV_SHIFT
    half = 1 << (_HSV_SHIFT - 1)
    sdiv = torch.where(v > 0, torch.round(255 * one / v.clamp(min=1)), 0)
    s = torch.div(
        diff * sdiv.to(torch.int32) + half, one, rounding_mode='floor')
    h = torch.where(v == r, g - b,
                    torch.where(v == g, b - r + 2 * diff, r - g + 4 * diff))
    hdiv = torch.where(diff > 0,
                       torch.round(180 * one / (6 * diff.clamp(min=1))), 0)
    h = torch.div(h * hdiv.to(torch.int32) + half, one, rounding_mode='floor')
    h = torch.where(h < 0, h + 180, h)
    return torch.stack([h, s, v], dim=1)


def hsv_u8_to_rgb(hsv: torch.Tensor) -> torch.Tensor:
    """OpenCV's ``COLOR_HSV2RGB`` on 8-bit values, truncated to 0..255.

    Each channel is ``v - v * s * clamp(min(k, 4 - k), 0, 1)`` with
    ``k = (n + h / 30) mod 6`` (n = 5, 3, 1 for r, g, b), the closed form of
    OpenCV's six sectors. OpenCV 5 truncates the float result (4.x rounded
    it): the values agree with the installed OpenCV's within one grey
    level, mostly exactly.

    Args:
        hsv (Tensor): (N, 3, ...) H (0..179), S, V (0..255).

    Returns:
        Tensor: (N, 3, ...) float RGB with integer values.
    """
    h, s, v = hsv.to(torch.float32).unbind(1)
    sector = h * (6.0 / 180.0)
    chroma = v * (s * (1.0 / 255.0))
    channels = []
    for n in (5.0, 3.0, 1.0):
        k = torch.remainder(sector + n, 6.0)
        weight = torch.minimum(k, 4.0 - k).clamp_(0, 1)
        channels.append(v - chroma * weight)
    return torch.stack(channels, 1).floor_().clamp_(0, 255)


def adjust_hue(clips: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """MMAction2's hue step: to uint8, shift OpenCV's hue, back to RGB.

    The shift is ``int(factor * 255)`` hue units (truncated toward zero),
    modulo 180, as ``ColorJitter.adjust_hue`` computes it. On the CPU this
    is OpenCV's own conversion, one call per clip (exact); elsewhere the
    torch conversions above.
    """
    u8 = clips.clamp(0, 255).floor()
    offsets = torch.trunc(factor.to(torch.float64) * 255).to(torch.int32)
    if clips.device.type == 'cpu':
        return _adjust_hue_opencv(u8.to(torch.uint8), offsets.tolist())
    return adjust_hue_torch(u8, offsets)


def adjust_hue_torch(clips: torch.Tensor,
                     offsets: torch.Tensor) -> torch.Tensor:
    """The hue shift with the torch conversions (any device).

    Args:
        clips (Tensor): (N, 3, ...) integer-valued 0..255 RGB.
        offsets (Tensor): (N,) int hue shifts in OpenCV's 0..179 units.

    Returns:
        Tensor: (N, 3, ...) float RGB with integer values.
    """
    hsv = rgb_to_hsv_u8(clips)
    shift = offsets.to(hsv.device).view(-1, *([1] * (hsv.dim() - 2)))
    hue = torch.remainder(hsv[:, 0] + shift, 180)
    return hsv_u8_to_rgb(torch.stack([hue, hsv[:, 1], hsv[:, 2]], 1))


def _adjust_hue_opencv(clips: torch.Tensor, offsets) -> torch.Tensor:
    import cv2
    import numpy as np
    out = torch.empty(clips.shape, dtype=torch.float32)
    for index, offset in enumerate(offsets):
        c, t, h, w = clips[index].shape
        # all frames as one tall RGB image: one OpenCV call per clip
        frames = clips[index].permute(1, 2, 3, 0).reshape(t * h, w, c)
        hsv = cv2.cvtColor(
            np.ascontiguousarray(frames.numpy()), cv2.COLOR_RGB2HSV)
        hsv[..., 0] = (hsv[..., 0].astype(np.int16) + offset) % 180
        rgb = torch.from_numpy(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB))
        out[index] = rgb.reshape(t, h, w, c).permute(3, 0, 1, 2)
    return out


_COL = {name: i for i, name in enumerate(VIEW_AUGMENTATION_FIELDS)}
_JITTER_FACTORS = ('brightness', 'contrast', 'saturation', 'hue')


def crop_views(clip: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Resize, crop, resize and flip one clip into its views.

    MMAction2's ``Resize(keep_ratio)`` -> ``RandomResizedCrop`` ->
    ``Resize(out)`` -> ``Flip``, with each view's parameters.

    Args:
        clip (Tensor): (C, T, H, W) uint8 decoded frames.
        rows (Tensor): (V, 19) view-augmentation rows.

    Returns:
        Tensor: (V, C, T, out_h, out_w) uint8.
    """
    views = []
    resized = {}
    frames = clip.unsqueeze(0)
    for row in rows.tolist():
        size = (int(row[_COL['resize_h']]), int(row[_COL['resize_w']]))
        if size not in resized:  # every view of a clip shares this resize
            resized[size] = resize_frames(frames, size)
        x1, y1, x2, y2 = (int(row[_COL[k]]) for k in ('x1', 'y1', 'x2', 'y2'))
        out_size = (int(row[_COL['out_h']]), int(row[_COL['out_w']]))
        view = resize_frames(resized[size][..., y1:y2, x1:x2], out_size)
        if row[_COL['flip']]:
            view = view.flip(-1)
        views.append(view)
    return torch.cat(views)


def jitter_clip(clip: torch.Tensor, factors: Sequence[float],
                order: Sequence[int]) -> torch.Tensor:
    """One clip through MMAction2's ``ColorJitter`` steps, in ``order``.

    A step whose factor is the identity is skipped, as MMAction2 does (the
    hue step is not one: it rounds through 8-bit HSV). The result is
    truncated to 0..255 like ``np.clip(img, 0, 255).astype(np.uint8)``.

    Args:
        clip (Tensor): (3, T, H, W) float, modified in place.
        factors (list[float]): brightness, contrast, saturation, hue.
        order (list[int]): the function ids (0 brightness ... 3 hue).

    Returns:
        Tensor: (3, T, H, W) float with 0..255 integer values.
    """
    brightness, contrast, saturation, hue = factors
    for fn_id in order:
        if fn_id == 0 and brightness != 1:
            adjust_brightness_(clip, brightness)
        elif fn_id == 1 and contrast != 1:
            adjust_contrast_(clip, contrast)
        elif fn_id == 2 and saturation != 1:
            adjust_saturation_(clip, saturation)
        elif fn_id == 3 and hue != 0:
            clip = adjust_hue(clip[None],
                              torch.tensor([hue], device=clip.device))[0]
    return clip.clamp_(0, 255).floor_()


def color_views(clips: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Colour jitter and grayscale of many clips, per their rows.

    Each jittered clip runs brightness, contrast, saturation and hue in its
    own order (:func:`jitter_clip`); grayscale follows, as MMAction2's
    ``ColorJitter(saturation=(0, 0))``: luma, truncated, on all channels.
    Clip by clip and in place: on a CPU this is about 4x faster than
    gathering the clips of each step, and on a GPU a clip is one batch of
    kernels anyway.

    Args:
        clips (Tensor): (N, 3, T, H, W) uint8 (or float with 0..255
            integer values).
        rows (Tensor): (N, 19) view-augmentation rows.

    Returns:
        Tensor: (N, 3, T, H, W) float with 0..255 integer values.
    """
    out = clips.to(torch.float32, copy=True)
    factors = [_COL[name] for name in _JITTER_FACTORS]
    orders = [_COL[f'order_{step}'] for step in range(4)]
    for index, row in enumerate(rows.tolist()):
        clip = out[index]
        if row[_COL['jitter']]:
            clip = jitter_clip(clip, [row[i] for i in factors],
                               [int(row[i]) for i in orders])
        if row[_COL['grayscale']]:
            clip = to_gray(clip, keepdim=True).floor_().expand_as(clip)
        if clip.data_ptr() != out[index].data_ptr():
            out[index] = clip
    return out
