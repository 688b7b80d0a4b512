"""A small action benchmark that only motion tells apart.

Ten classes, each defined by how one object moves: four translations
(``MoveLeft``, ``MoveRight``, ``MoveUp``, ``MoveDown``), two scale changes
(``Approach``, ``Recede``), a rotation either way round (``Spin``), two
oscillations (``Shake``: sideways, ``Pulse``: in scale) and no motion at all
(``Still``). Every video shows one opaque, textured-background scene.

What makes it a *motion* benchmark:

* **Nuisances are independent of the class.** As in UCF101, where a group
  (``gXX``) is one set of people performing every action, a group here is
  one nuisance draw (background texture and colours, object shape and
  colour, base size, speed, spin rate, sensor noise) shared by *all* ten
  classes. A classifier cannot memorise "this background is class 3", and
  within a group, clips differ only in their motion and their starting
  state (position, angle, scale).
* **Any single frame has the same distribution for every class.** Each
  attribute the class does not move (position on the toroidal scene,
  angle, scale) is drawn from the distribution the moving classes sweep
  over, so a frame, and the mean of a video's frames (blur), carry no
  linear evidence of the class; two probes measure this.
* **Motion is clearly visible at the training resolution.** Speeds are
  set in pixels per frame of the generated video: at the demo's 32-pixel
  clips sampled every second frame, an object moves 1.5-2.5 pixels per
  sampled frame (10-17 pixels over an 8-frame clip), spins 140-210 degrees
  and changes scale by 1.9x over a clip. Oscillation periods (7 and 9
  frames) are not multiples of the sampling stride, so no two sampled
  frames of a clip repeat each other (a shuffle of them stays visible).

A split never puts one group on both sides (UCF101's protocol), so a test
video's background, object and colours were never seen in training.
"""
from __future__ import annotations
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..utils.atomic import atomic_write_path

#: Version of the generator, kept in ``benchmark.json``: a folder written by
#: another version is regenerated, never silently reused.
GENERATOR_VERSION = 2

CLASSES: Tuple[str,
               ...] = ('MoveLeft', 'MoveRight', 'MoveUp', 'MoveDown',
                       'Approach', 'Recede', 'Spin', 'Shake', 'Pulse', 'Still')
#: Every motion the generator draws: motion10's ten, then ten it does not
#: have: two diagonals, rotations with a fixed sense, a rotation that turns
#: back (``Wobble``), a vertical oscillation (``Nod``), a circular path
#: (``Orbit``), a translation that reverses every :data:`ZIGZAG_HALF_PERIOD`
#: frames (``ZigZag``) and two classes defined by a second object's motion
#: relative to the first (``Cross``: opposite ways, ``Follow``: the same
#: way). A collection picks any of them (``BenchmarkSpec.class_names``).
VOCABULARY: Tuple[str, ...] = CLASSES + (
    'MoveUpLeft', 'MoveDownRight', 'SpinClockwise', 'SpinAnticlockwise',
    'Wobble', 'Nod', 'Orbit', 'ZigZag', 'Cross', 'Follow')
#: Classes whose definition needs a second object. A collection with any of
#: them shows two objects in every video (in the other classes the second
#: one only drifts), so the object count does not reveal the class.
TWO_OBJECT_CLASSES: Tuple[str, ...] = ('Cross', 'Follow')

#: Unit-direction of each translation class in image coordinates (x right,
#: y down).
TRANSLATIONS: Dict[str, Tuple[float, float]] = {
    'MoveLeft': (-1., 0.),
    'MoveRight': (1., 0.),
    'MoveUp': (0., -1.),
    'MoveDown': (0., 1.),
    'MoveUpLeft': (-np.sqrt(.5), -np.sqrt(.5)),
    'MoveDownRight': (np.sqrt(.5), np.sqrt(.5)),
}

#: Base shapes (unit-size polygons), none with a rotational or mirror
#: symmetry, so that a spin's direction is visible.
SHAPES: Tuple[np.ndarray, ...] = (
    np.array([[-1, -1], [1, -1], [1, -0.2], [-0.2, -0.2], [-0.2, 1], [-1, 1]]),
    np.array([[-1, -0.7], [1, 0], [-1, 0.7], [-0.5, 0]]),
    np.array([[-1, -1], [0.4, -1], [1, 0.3], [0.2, 1], [-0.6, 0.6]]),
    np.array([[-1, -0.3], [0.2, -0.3], [0.2, -1], [1, 0], [0.2, 1], [0.2, 0.3],
              [-1, 0.3]]),
)

#: Scale range swept by Approach / Recede over a whole video (and the range
#: every other class draws its constant scale from, log-uniformly).
SCALE_RANGE: Tuple[float, float] = (0.6, 2.4)
#: Frames per period of Shake, and its amplitude in units of the group speed.
SHAKE_PERIOD, SHAKE_AMPLITUDE = 7.0, 2.5
#: Every object also drifts in a random direction at up to this fraction
#: of its group's speed, whatever its class (as an actor's body moves while
#: they act). Without it a video's mean frame is a long streak for the four
#: translations and a compact blob for the other classes, and a linear probe
#: on mean frames scored 16% (chance 10%); with it, every class blurs (11%).
#: At 0.5 the drift also hid the classes from a supervised 3D CNN (59%).
DRIFT_FRACTION = 0.2
#: Frames per period of Pulse, and its amplitude as a log-scale factor
#: (1.3x larger and smaller than its centre scale).
PULSE_PERIOD, PULSE_AMPLITUDE = 9.0, float(np.log(1.3))
#: Frames per period of Nod (vertical), as Shake's.
NOD_PERIOD = SHAKE_PERIOD
#: Frames per turn of Orbit, and its radius in units of the group speed.
ORBIT_PERIOD, ORBIT_RADIUS = 16.0, 3.0
#: Frames between two reversals of ZigZag: below the 15-frame span of a
#: demo clip, so every clip sees a reversal.
ZIGZAG_HALF_PERIOD = 6.0
#: Frames per period of Wobble, and its amplitude in radians.
WOBBLE_PERIOD, WOBBLE_AMPLITUDE = 9.0, float(np.deg2rad(40))
#: Frame rate at which the speeds and periods above hold; a collection at
#: another ``fps`` scales them so that motion per *second* is the same.
REFERENCE_FPS = 25


@dataclass(frozen=True)
class BenchmarkSpec:
    """Size of the generated benchmark.

    Args:
        num_groups (int): Groups (nuisance draws, each shared by all
            classes). UCF101 has 25.
        clips_per_group (int): Clips per class and group.
        num_frames (int): Frames per video.
        size (int): Frame height and width in pixels.
        seed (int): Seed of every random draw.
        num_splits (int): Train/test splits written (groups rotate through
            the test side as in UCF101's three splits).
        num_classes (int): The first ``num_classes`` of ``class_names``.
        class_names (tuple[str], optional): Motions of :data:`VOCABULARY`,
            in label order. Defaults to motion10's :data:`CLASSES`.
        fps (int): Frame rate written to the videos. Speeds, spin rates
            and oscillation periods keep their per-second values
            (:data:`REFERENCE_FPS`), so a higher rate moves less per frame.
        camera_motion (float): A pan of the whole scene per clip, in a
            random direction at up to this fraction of the group speed
            (0: a still camera, as motion10).
        texture (str): ``'smooth'`` backgrounds (stripes, checkerboards,
            blobs), or ``'busy'``: the same with fine-grained clutter on
            top, which competes with the object's edges.
        noise (tuple[float, float]): Range of the sensor noise's standard
            deviation (grey levels), drawn per group.
    """
    num_groups: int = 30
    clips_per_group: int = 2
    num_frames: int = 32
    size: int = 64
    seed: int = 0
    num_splits: int = 3
    num_classes: int = len(CLASSES)
    class_names: Optional[Tuple[str, ...]] = None
    fps: int = REFERENCE_FPS
    camera_motion: float = 0.0
    texture: str = 'smooth'
    noise: Tuple[float, float] = (2.0, 6.0)

    def __post_init__(self) -> None:
        if self.size < 64 or self.size % 16:
            # decord 0.6.0 mis-sizes some small XVID frames (48 px, seen here).
            raise ValueError(
                f'size must be a multiple of 16 and >= 64, got {self.size}')
        if self.num_groups < 3:
            raise ValueError(
                f'num_groups must be >= 3 (one third is held out), '
                f'got {self.num_groups}')
        if self.num_frames < 16:
            raise ValueError(
                f'num_frames must be >= 16, got {self.num_frames}')
        names = self.class_names or CLASSES
        unknown = [c for c in names if c not in VOCABULARY]
        if unknown or len(set(names)) != len(names):
            raise ValueError(
                f'class_names must be distinct motions of {VOCABULARY}, '
                f'got {tuple(names)}')
        if not 2 <= self.num_classes <= len(names):
            raise ValueError(f'num_classes must be 2..{len(names)}, got '
                             f'{self.num_classes}')
        if not 1 <= self.fps <= 120:
            raise ValueError(f'fps must be 1..120, got {self.fps}')
        if not 0 <= self.camera_motion <= 2:
            raise ValueError(
                f'camera_motion must be 0..2, got {self.camera_motion}')
        if self.texture not in ('smooth', 'busy'):
            raise ValueError(
                f"texture must be 'smooth' or 'busy', got {self.texture!r}")
        if not 0 <= self.noise[0] <= self.noise[1]:
            raise ValueError(f'noise must be (low, high) with 0 <= low <= '
                             f'high, got {self.noise}')
        if not 1 <= self.num_splits <= 3:
            raise ValueError(
                f'num_splits must be 1, 2 or 3, got {self.num_splits}')

    @property
    def classes(self) -> Tuple[str, ...]:
        """The class names, in label order."""
        return tuple(self.class_names or CLASSES)[:self.num_classes]

    @property
    def num_objects(self) -> int:
        """Objects per video: 2 if any class needs a second one."""
        return 2 if set(self.classes) & set(TWO_OBJECT_CLASSES) else 1

    @property
    def frame_scale(self) -> float:
        """Motion per frame relative to :data:`REFERENCE_FPS`."""
        return REFERENCE_FPS / self.fps

    def non_defaults(self) -> Dict[str, object]:
        """The fields that differ from motion10's (the manifest's spec).

        Manifests written before a field existed stay valid: a field at its
        default is left out.
        """
        from dataclasses import fields
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ('num_groups', 'clips_per_group', 'num_frames',
                          'size', 'seed', 'num_splits') or value != f.default:
                out[f.name] = list(value) if isinstance(value,
                                                        tuple) else value
        return out

    @property
    def num_videos(self) -> int:
        """Videos in the whole benchmark."""
        return self.num_classes * self.num_groups * self.clips_per_group


def held_out_groups(spec: BenchmarkSpec, split: int) -> List[int]:
    """1-based groups on the test side of ``split`` (1-based)."""
    per_split = max(1, spec.num_groups // 3)
    start = (split - 1) * per_split + 1
    return list(range(start, min(start + per_split, spec.num_groups + 1)))


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


def write_video(path: str, frames: np.ndarray, fps: int = 25) -> None:
    """BGR frames as an XVID ``.avi`` (UCF101's container), atomically."""
    import cv2
    with atomic_write_path(path, suffix='.avi') as tmp:
        writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*'XVID'), fps,
                                 (frames.shape[2], frames.shape[1]))
        if not writer.isOpened():
            raise RuntimeError(f'OpenCV cannot write {tmp} (XVID)')
        for frame in frames:
            writer.write(frame)
        writer.release()


def video_name(label: str, group: int, clip: int) -> str:
    """UCF101's ``<Class>/v_<Class>_gXX_cYY.avi``."""
    return f'{label}/v_{label}_g{group:02d}_c{clip:02d}.avi'


def plan(spec: BenchmarkSpec) -> List[Tuple[str, int, int]]:
    """Every (class, group, clip) of the benchmark, in writing order."""
    return [(label, group, clip) for label in spec.classes
            for group in range(1, spec.num_groups + 1)
            for clip in range(1, spec.clips_per_group + 1)]


def generate_one(root: str, spec: BenchmarkSpec, label: str, group: int,
                 clip: int) -> str:
    """Render and write one video, determined by (seed, class, group, clip)."""
    clip_rng = np.random.default_rng(
        [spec.seed, group, VOCABULARY.index(label), clip])
    rel = video_name(label, group, clip)
    write_video(
        osp.join(root, 'videos', rel),
        render_video(label, clip_rng, group_nuisance(spec, group), spec),
        fps=spec.fps)
    return rel


def write_official_lists(root: str, spec: BenchmarkSpec) -> List[str]:
    """``annotations/classInd.txt``, ``trainlist0N.txt``, ``testlist0N.txt``.

    Same format as UCF101's (CRLF, 1-based class index, train lines carry
    the index, test lines do not).

    Returns:
        list[str]: The written paths.
    """
    ann_dir = osp.join(root, 'annotations')
    os.makedirs(ann_dir, exist_ok=True)
    written = []

    def write(name: str, lines: Sequence[str]) -> None:
        path = osp.join(ann_dir, name)
        with open(path, 'w', newline='') as f:
            f.write(''.join(line + '\r\n' for line in lines))
        written.append(path)

    write('classInd.txt', [f'{i + 1} {c}' for i, c in enumerate(spec.classes)])
    for split in range(1, spec.num_splits + 1):
        held_out = set(held_out_groups(spec, split))
        train, test = [], []
        for label, group, clip in plan(spec):
            rel = video_name(label, group, clip)
            if group in held_out:
                test.append(rel)
            else:
                train.append(f'{rel} {spec.classes.index(label) + 1}')
        write(f'trainlist{split:02d}.txt', train)
        write(f'testlist{split:02d}.txt', test)
    return written


def _generate_task(task: tuple) -> str:
    root, spec, label, group, clip = task
    return generate_one(root, spec, label, group, clip)


def generate_benchmark(root: str,
                       spec: BenchmarkSpec,
                       name: str = 'motion10',
                       workers: int = 2,
                       few_label_fraction: float = 0.1) -> dict:
    """Write (or reuse) the benchmark under ``root``; returns the manifest.

    Writes ``videos/``, UCF101's ``annotations/`` files, and per split the
    MMAction2 lists ``<name>_{train,val}_split_N_videos.txt`` (through the
    UCF101 converter) plus ``<name>_train_split_N_10pct_videos.txt``, a
    class-balanced ``few_label_fraction`` of the train list for few-label
    fine-tuning. Videos already written with the same spec are reused.
    """
    import json
    import sys

    from mmengine.utils import track_parallel_progress, track_progress

    from .annotations import (convert_ucf101, list_file_names,
                              subsample_per_class, write_list)
    manifest_path = osp.join(root, 'benchmark.json')
    manifest = dict(
        spec=spec.non_defaults(),
        name=name,
        few_label_fraction=few_label_fraction,
        generator_version=GENERATOR_VERSION)
    todo = [(root, spec, *item) for item in plan(spec)]
    if osp.isfile(manifest_path):
        with open(manifest_path) as f:
            if json.load(f) == manifest:
                todo = [
                    t for t in todo if not osp.isfile(
                        osp.join(root, 'videos', video_name(*t[2:])))
                ]
            else:
                print(
                    f'{manifest_path} was made with other settings: '
                    'regenerating',
                    file=sys.stderr)
    if todo:
        print(f'writing {len(todo)} videos to {root}/videos')
        if workers > 1:
            track_parallel_progress(_generate_task, todo, workers, chunksize=4)
        else:
            track_progress(_generate_task, todo)
    else:
        print(f'{root}: all {spec.num_videos} videos present, reusing them')
    ann_dir = osp.join(root, 'annotations')
    write_official_lists(root, spec)
    for split in range(1, spec.num_splits + 1):
        train, test = convert_ucf101(
            ann_dir, split, video_root=osp.join(root, 'videos'))
        train_name, test_name = list_file_names(name, split)
        write_list(osp.join(root, train_name), train)
        write_list(osp.join(root, test_name), test)
        write_list(
            osp.join(root, few_label_list_name(name, split)),
            subsample_per_class(train, few_label_fraction, seed=split))
    with open(manifest_path, 'w') as f:
        json.dump(manifest, f, indent=2)
    return manifest


def few_label_list_name(name: str, split: int) -> str:
    """``<name>_train_split_N_10pct_videos.txt``: the few-label train list."""
    return f'{name}_train_split_{split}_10pct_videos.txt'
