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
from typing import Tuple

import torch
import torch.nn.functional as F

from ...datasets.transforms.view_augmentation import VIEW_AUGMENTATION_FIELDS

#: ITU-R 601 luma, as MMAction2's ``ColorJitter.rgb_to_grayscale``.
GRAY_WEIGHTS = (0.2989, 0.587, 0.114)
#: OpenCV's fixed-point shift in the 8-bit RGB -> HSV conversion.
_HSV_SHIFT = 12


def resize_frames(clips: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of every frame, rounded to grey levels.

    ``mmcv.imresize(..., interpolation='bilinear')`` (OpenCV's
    ``INTER_LINEAR``: half-pixel centres, no antialiasing) on uint8 frames.

    Args:
        clips (Tensor): (N, C, T, H, W).
        size (tuple[int, int]): (height, width) of the output.

    Returns:
        Tensor: (N, C, T, height, width).
    """
    n, c, t, h, w = clips.shape
    if (h, w) == tuple(size):
        return clips
    frames = clips.transpose(1, 2).reshape(n * t, c, h, w)
    frames = F.interpolate(
        frames, size=tuple(size), mode='bilinear', align_corners=False)
    frames = frames.round_().clamp_(0, 255)
    return frames.reshape(n, t, c, *size).transpose(1, 2)


def to_gray(clips: torch.Tensor) -> torch.Tensor:
    """(N, 3, T, H, W) RGB -> (N, T, H, W) luma, in floating point."""
    r, g, b = clips.unbind(1)
    return GRAY_WEIGHTS[0] * r + GRAY_WEIGHTS[1] * g + GRAY_WEIGHTS[2] * b


def _per_clip(factor: torch.Tensor) -> torch.Tensor:
    return factor.view(-1, 1, 1, 1, 1).to(torch.float32)


def adjust_brightness(clips: torch.Tensor,
                      factor: torch.Tensor) -> torch.Tensor:
    """``img * b`` per clip; ``factor`` is (N,)."""
    return clips * _per_clip(factor)


def adjust_contrast(clips: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Blend with each frame's mean luma (MMAction2: per frame, not clip)."""
    mean = to_gray(clips).mean(dim=(2, 3)).unsqueeze(1)[..., None, None]
    f = _per_clip(factor)
    return f * clips + (1 - f) * mean


def adjust_saturation(clips: torch.Tensor,
                      factor: torch.Tensor) -> torch.Tensor:
    """Blend with each pixel's luma."""
    f = _per_clip(factor)
    return f * clips + (1 - f) * to_gray(clips).unsqueeze(1)


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
    s = torch.div(diff * sdiv.to(torch.int32) + half, one,
                  rounding_mode='floor')
    h = torch.where(v == r, g - b,
                    torch.where(v == g, b - r + 2 * diff, r - g + 4 * diff))
    hdiv = torch.where(diff > 0,
                       torch.round(180 * one / (6 * diff.clamp(min=1))), 0)
    h = torch.div(h * hdiv.to(torch.int32) + half, one, rounding_mode='floor')
    h = torch.where(h < 0, h + 180, h)
    return torch.stack([h, s, v], dim=1)


def hsv_u8_to_rgb(hsv: torch.Tensor) -> torch.Tensor:
    """OpenCV's ``COLOR_HSV2RGB`` on 8-bit values, truncated to 0..255.

    OpenCV 5 truncates the float result (4.x rounded it): the values agree
    with the installed OpenCV's within one grey level, mostly exactly.

    Args:
        hsv (Tensor): (N, 3, ...) H (0..179), S, V (0..255).

    Returns:
        Tensor: (N, 3, ...) float RGB with integer values.
    """
    h, s, v = hsv.to(torch.float32).unbind(1)
    h = h * (6.0 / 180.0)
    s = s * (1.0 / 255.0)
    v = v * (1.0 / 255.0)
    sector = torch.floor(h)
    frac = h - sector
    sector = sector.to(torch.int64) % 6
    p = v * (1 - s)
    q = v * (1 - s * frac)
    t = v * (1 - s * (1 - frac))
    # (r, g, b) per sector, as OpenCV's sector table read for RGB output
    table = torch.stack([
        torch.stack([v, t, p], 1),
        torch.stack([q, v, p], 1),
        torch.stack([p, v, t], 1),
        torch.stack([p, q, v], 1),
        torch.stack([t, p, v], 1),
        torch.stack([v, p, q], 1),
    ], 0)
    index = sector.unsqueeze(0).unsqueeze(2).expand(1, *table.shape[1:])
    rgb = table.gather(0, index).squeeze(0)
    gray = (s == 0).unsqueeze(1)
    rgb = torch.where(gray, v.unsqueeze(1), rgb)
    return (rgb * 255).floor_().clamp_(0, 255)


def adjust_hue(clips: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """MMAction2's hue step: to uint8, shift OpenCV's hue, back to RGB.

    The shift is ``int(factor * 255)`` hue units (truncated toward zero),
    modulo 180, as ``ColorJitter.adjust_hue`` computes it.
    """
    u8 = clips.clamp(0, 255).floor()
    hsv = rgb_to_hsv_u8(u8)
    offset = torch.trunc(factor.to(torch.float64) * 255).to(torch.int32)
    shift = offset.view(-1, *([1] * (hsv.dim() - 2)))
    hue = torch.remainder(hsv[:, 0] + shift, 180)
    return hsv_u8_to_rgb(torch.stack([hue, hsv[:, 1], hsv[:, 2]], 1))


def to_uint8_levels(clips: torch.Tensor) -> torch.Tensor:
    """``np.clip(img, 0, 255).astype(np.uint8)``: clamp, truncate."""
    return clips.clamp(0, 255).floor_()


_COL = {name: i for i, name in enumerate(VIEW_AUGMENTATION_FIELDS)}
_JITTER_STEPS = (adjust_brightness, adjust_contrast, adjust_saturation,
                 adjust_hue)
_JITTER_FACTORS = ('brightness', 'contrast', 'saturation', 'hue')


def crop_views(clip: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Resize, crop, resize and flip one clip into its views.

    MMAction2's ``Resize(keep_ratio)`` -> ``RandomResizedCrop`` ->
    ``Resize(out)`` -> ``Flip``, with each view's parameters.

    Args:
        clip (Tensor): (C, T, H, W) decoded frames.
        rows (Tensor): (V, 19) view-augmentation rows.

    Returns:
        Tensor: (V, C, T, out_h, out_w) float.
    """
    views = []
    rows = rows.tolist()
    resized = {}
    frames = clip.unsqueeze(0).to(torch.float32)
    for row in rows:
        size = (int(row[_COL['resize_h']]), int(row[_COL['resize_w']]))
        if size not in resized:  # every view of a clip shares this resize
            resized[size] = resize_frames(frames, size)
        x1, y1, x2, y2 = (int(row[_COL[k]]) for k in ('x1', 'y1', 'x2', 'y2'))
        view = resize_frames(resized[size][..., y1:y2, x1:x2],
                             (int(row[_COL['out_h']]), int(row[_COL['out_w']])))
        if row[_COL['flip']]:
            view = view.flip(-1)
        views.append(view)
    return torch.cat(views)


def color_views(clips: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Colour jitter and grayscale of many clips at once, per their rows.

    Each jittered clip runs brightness, contrast, saturation and hue in its
    own order and ends truncated to 0..255, as MMAction2's ``ColorJitter``;
    grayscale follows, as its own ``ColorJitter(saturation=(0, 0))``.

    Args:
        clips (Tensor): (N, 3, T, H, W) float with 0..255 integer values.
        rows (Tensor): (N, 19) view-augmentation rows.

    Returns:
        Tensor: (N, 3, T, H, W).
    """
    rows = rows.to(clips.device)
    jitter = rows[:, _COL['jitter']] > 0
    if jitter.any():
        out = clips.clone()
        for step in range(4):
            order = rows[:, _COL[f'order_{step}']].long()
            for fn_id, fn in enumerate(_JITTER_STEPS):
                factor = rows[:, _COL[_JITTER_FACTORS[fn_id]]]
                # MMAction2 skips a step whose factor is the identity (the
                # hue step is not one: it rounds through 8-bit HSV)
                active = factor != (0 if fn_id == 3 else 1)
                selected = (jitter & active & (order == fn_id)).nonzero()
                if len(selected):
                    selected = selected.flatten()
                    out[selected] = fn(out[selected], factor[selected])
        clips = torch.where(
            jitter.view(-1, 1, 1, 1, 1), to_uint8_levels(out), clips)
    gray = rows[:, _COL['grayscale']] > 0
    if gray.any():
        luma = to_uint8_levels(to_gray(clips)).unsqueeze(1).expand_as(clips)
        clips = torch.where(gray.view(-1, 1, 1, 1, 1), luma, clips)
    return clips
