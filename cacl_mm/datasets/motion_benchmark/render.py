"""Drawing one video: the group's nuisances, the object's path for its
class, the camera pan, the frames."""
from __future__ import annotations
from typing import Dict

import numpy as np

from .spec import (DRIFT_FRACTION, NOD_PERIOD, ORBIT_PERIOD, ORBIT_RADIUS,
                   PULSE_AMPLITUDE, PULSE_PERIOD, SCALE_RANGE, SHAKE_AMPLITUDE,
                   SHAKE_PERIOD, SHAPES, TRANSLATIONS, VOCABULARY,
                   WOBBLE_AMPLITUDE, WOBBLE_PERIOD, ZIGZAG_HALF_PERIOD,
                   BenchmarkSpec)


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A static textured background, (size, size, 3) float32, dark enough
    that the bright object stands out in colour and in grey."""
    import cv2
    kind = rng.integers(3)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    if kind == 0:  # stripes at a random angle and frequency
        angle, freq = rng.uniform(0, np.pi), rng.uniform(2, 6)
        pattern = np.sin(2 * np.pi * freq *
                         (xx * np.cos(angle) + yy * np.sin(angle)))
    elif kind == 1:  # checkerboard
        cells = rng.integers(3, 8)
        pattern = ((np.floor(xx * cells) + np.floor(yy * cells)) % 2) * 2 - 1
    else:  # smooth blobs
        coarse = rng.normal(size=(5, 5)).astype(np.float32)
        pattern = cv2.resize(
            coarse, (size, size), interpolation=cv2.INTER_CUBIC)
        pattern /= np.abs(pattern).max() + 1e-6
    low, high = rng.uniform(10, 60, 3), rng.uniform(50, 120, 3)
    mix = (pattern[..., None] + 1) / 2
    return (low * (1 - mix) + high * mix).astype(np.float32)


def _clutter(rng: np.random.Generator, size: int) -> np.ndarray:
    """Fine-grained static clutter, (size, size, 1) float32 in [-40, 40]:
    random dots and short strokes, as foliage or a crowd behind an actor."""
    import cv2
    grain = rng.uniform(-1, 1, (size, size)).astype(np.float32)
    grain = cv2.GaussianBlur(grain, (3, 3), 0.7)
    grain /= np.abs(grain).max() + 1e-6
    return (40 * grain)[..., None]


def group_nuisance(spec: BenchmarkSpec, group: int) -> Dict:
    """The nuisance draw of ``group`` (1-based), shared by every class.

    Speeds are in pixels (of a ``spec.size`` frame) per frame; ``spin`` in
    radians per frame; ``growth`` is the per-frame scale factor of Approach.
    ``angle`` and ``log_scale`` are the object's orientation and (log) scale
    whenever the class does not change them.
    """
    rng = np.random.default_rng([spec.seed, group])
    log_lo, log_hi = np.log(SCALE_RANGE)
    nuisance = dict(
        angle=rng.uniform(0, 2 * np.pi),
        log_scale=rng.uniform(log_lo, log_hi),
        background=_background(rng, spec.size),
        shape=SHAPES[rng.integers(len(SHAPES))],
        colour=rng.uniform(190, 255, 3) * rng.permutation([1.0, 0.85, 0.6]),
        base_size=rng.uniform(0.10, 0.13) * spec.size,
        speed=rng.uniform(1.5, 2.5) * spec.size / 64 * spec.frame_scale,
        spin=np.deg2rad(rng.uniform(10, 15)) * spec.frame_scale,
        growth=np.exp((log_hi - log_lo) / (spec.num_frames - 1)),
        noise=rng.uniform(*spec.noise))
    # Drawn after motion10's draws, and only when asked for, so motion10's
    # videos do not change.
    if spec.texture == 'busy':
        nuisance['background'] = nuisance['background'] + _clutter(
            rng, spec.size)
    if spec.num_objects == 2:
        nuisance.update(
            companion_shape=SHAPES[rng.integers(len(SHAPES))],
            companion_colour=rng.uniform(190, 255, 3) *
            rng.permutation([0.6, 1.0, 0.85]),
            companion_log_scale=rng.uniform(log_lo, log_hi))
    return nuisance


def trajectory(label: str, rng: np.random.Generator, nuisance: Dict,
               spec: BenchmarkSpec) -> Dict[str, np.ndarray]:
    """Per-frame position (T, 2), scale, angle (T,) of one clip.

    Only the start position (uniform on the toroidal scene), a slow drift
    (:data:`DRIFT_FRACTION`) and the phase of an oscillation or the sense of
    a spin are drawn per clip; orientation
    and scale are the group's wherever the class does not change them, so
    that two clips of one group differ in their motion and their position
    alone. Each attribute's distribution over groups is the one the moving
    classes sweep over (angle uniform, scale log-uniform), so a frame does
    not reveal the class.
    """
    if label not in VOCABULARY:
        raise ValueError(f'unknown class {label!r}; classes are {VOCABULARY}')
    length, size = spec.num_frames, spec.size
    frames = np.arange(length, dtype=np.float64)
    # Periods are in frames at REFERENCE_FPS; at another rate they last
    # as many seconds.
    per_frame = 2 * np.pi * spec.frame_scale
    speed = nuisance['speed']
    start = rng.uniform(0, size, 2)
    drift_angle = rng.uniform(0, 2 * np.pi)
    drift = rng.uniform(0, DRIFT_FRACTION) * speed * np.array(
        [np.cos(drift_angle), np.sin(drift_angle)])
    position = start + np.outer(frames, drift)
    if label in TRANSLATIONS:
        position += np.outer(frames, TRANSLATIONS[label]) * speed
    elif label == 'Shake':
        phase = rng.uniform(0, 2 * np.pi)
        position[:, 0] += (
            SHAKE_AMPLITUDE * speed *
            np.sin(per_frame * frames / SHAKE_PERIOD + phase))
    elif label == 'Nod':
        position[:, 1] += SHAKE_AMPLITUDE * speed * np.sin(
            per_frame * frames / NOD_PERIOD + rng.uniform(0, 2 * np.pi))
    elif label == 'Orbit':  # clockwise on screen (y points down)
        phase = per_frame * frames / ORBIT_PERIOD + rng.uniform(0, 2 * np.pi)
        position += ORBIT_RADIUS * speed * np.stack(
            [np.cos(phase), np.sin(phase)], 1)
    elif label in ('ZigZag', 'Cross', 'Follow'):
        if label == 'ZigZag':  # a triangle wave: right, back left, right ..
            half = ZIGZAG_HALF_PERIOD / spec.frame_scale
            cycle = (frames / half + rng.uniform(0, 2)) % 2
            offset = np.where(cycle < 1, cycle, 2 - cycle) * half * speed
        else:  # the first object moves right; the second defines the class
            offset = frames * speed
        position[:, 0] += offset

    angle = np.full(length, nuisance['angle'])
    if label == 'Spin':  # either way round
        angle += rng.choice([-1., 1.]) * nuisance['spin'] * frames
    elif label in ('SpinClockwise', 'SpinAnticlockwise'):
        sense = 1. if label == 'SpinClockwise' else -1.
        angle += sense * nuisance['spin'] * frames
    elif label == 'Wobble':  # turns one way, then back
        angle += WOBBLE_AMPLITUDE * np.sin(per_frame * frames / WOBBLE_PERIOD +
                                           rng.uniform(0, 2 * np.pi))

    log_low, log_high = np.log(SCALE_RANGE)
    if label == 'Approach':
        log_scale = log_low + np.log(nuisance['growth']) * frames
    elif label == 'Recede':
        log_scale = log_high - np.log(nuisance['growth']) * frames
    elif label == 'Pulse':
        centre = np.clip(nuisance['log_scale'], log_low + PULSE_AMPLITUDE,
                         log_high - PULSE_AMPLITUDE)
        log_scale = centre + PULSE_AMPLITUDE * np.sin(
            per_frame * frames / PULSE_PERIOD + rng.uniform(0, 2 * np.pi))
    else:
        log_scale = np.full(length, nuisance['log_scale'])
    scale = np.exp(log_scale)
    return dict(position=position % size, scale=scale, angle=angle)


def companion_trajectory(
        label: str, rng: np.random.Generator, nuisance: Dict,
        spec: BenchmarkSpec, first: Dict[str,
                                         np.ndarray]) -> Dict[str, np.ndarray]:
    """Per-frame position, scale, angle of the second object.

    In ``Cross`` it moves left while the first moves right, in ``Follow``
    it moves right a fixed distance behind the first; in every other class
    it only drifts, from a position uniform on the scene, so that a frame
    shows two objects whatever the class.
    """
    length, size = spec.num_frames, spec.size
    frames = np.arange(length, dtype=np.float64)
    speed = nuisance['speed']
    if label == 'Follow':
        gap = rng.uniform(0.25, 0.4) * size * rng.choice([-1., 1.])
        position = first['position'] + np.array([-abs(gap), gap / 2])
    else:
        drift_angle = rng.uniform(0, 2 * np.pi)
        drift = rng.uniform(0, DRIFT_FRACTION) * speed * np.array(
            [np.cos(drift_angle), np.sin(drift_angle)])
        position = rng.uniform(0, size, 2) + np.outer(frames, drift)
        if label == 'Cross':
            position[:, 0] -= frames * speed
    return dict(
        position=position % size,
        scale=np.full(length, np.exp(nuisance['companion_log_scale'])),
        angle=np.full(length, nuisance['angle'] + np.pi / 2))


def camera_pan(rng: np.random.Generator, nuisance: Dict,
               spec: BenchmarkSpec) -> np.ndarray:
    """Per-frame offset (T, 2) of the whole scene: a pan in a random
    direction at up to ``spec.camera_motion`` x the group speed."""
    frames = np.arange(spec.num_frames, dtype=np.float64)
    if not spec.camera_motion:
        return np.zeros((spec.num_frames, 2))
    direction = rng.uniform(0, 2 * np.pi)
    speed = rng.uniform(0, spec.camera_motion) * nuisance['speed']
    return np.outer(
        frames, speed *
        np.array([np.cos(direction), np.sin(direction)]))


def render_video(label: str, rng: np.random.Generator, nuisance: Dict,
                 spec: BenchmarkSpec) -> np.ndarray:
    """Frames of one clip, (T, H, W, 3) uint8 BGR."""
    import cv2
    size = spec.size
    objects = [(trajectory(label, rng, nuisance,
                           spec), nuisance['shape'], nuisance['colour'])]
    # Every draw below comes after motion10's and only when asked for.
    if spec.num_objects == 2:
        objects.append(
            (companion_trajectory(label, rng, nuisance, spec, objects[0][0]),
             nuisance['companion_shape'], nuisance['companion_colour']))
    pan = camera_pan(rng, nuisance, spec)
    frames = np.empty((spec.num_frames, size, size, 3), np.uint8)
    offsets = [(dx, dy) for dx in (-size, 0, size) for dy in (-size, 0, size)]
    for t in range(spec.num_frames):
        background = nuisance['background']
        if spec.camera_motion:
            shift = np.float32([[1, 0, pan[t, 0]], [0, 1, pan[t, 1]]])
            background = cv2.warpAffine(
                background,
                shift, (size, size),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_WRAP)
        frame = background
        for traj, shape, colour in objects:
            theta = traj['angle'][t]
            rotation = np.array([[np.cos(theta), -np.sin(theta)],
                                 [np.sin(theta), np.cos(theta)]])
            polygon = (shape @ rotation.T) * (
                nuisance['base_size'] * traj['scale'][t])
            mask = np.zeros((size, size), np.uint8)
            # The scene is a torus: an object leaving one side enters the
            # other.
            for dx, dy in offsets:
                points = polygon + traj['position'][t] + pan[t] + (dx, dy)
                cv2.fillPoly(
                    mask, [np.round(points * 4).astype(np.int32)],
                    255,
                    lineType=cv2.LINE_AA,
                    shift=2)
            alpha = (mask.astype(np.float32) / 255)[..., None]
            frame = frame * (1 - alpha) + colour * alpha
        frame = frame + rng.normal(0, nuisance['noise'], frame.shape)
        frames[t] = np.clip(frame, 0, 255).astype(np.uint8)
    return frames
