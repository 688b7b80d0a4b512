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
from typing import Dict, List, Sequence, Tuple

import numpy as np

from ..utils.atomic import atomic_write_path

#: Version of the generator, kept in ``benchmark.json``: a folder written by
#: another version is regenerated, never silently reused.
GENERATOR_VERSION = 2

CLASSES: Tuple[str,
               ...] = ('MoveLeft', 'MoveRight', 'MoveUp', 'MoveDown',
                       'Approach', 'Recede', 'Spin', 'Shake', 'Pulse', 'Still')

#: Unit-direction of each translation class in image coordinates (x right,
#: y down).
TRANSLATIONS: Dict[str, Tuple[float, float]] = {
    'MoveLeft': (-1., 0.),
    'MoveRight': (1., 0.),
    'MoveUp': (0., -1.),
    'MoveDown': (0., 1.)
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
        num_classes (int): The first ``num_classes`` of :data:`CLASSES`.
    """
    num_groups: int = 30
    clips_per_group: int = 2
    num_frames: int = 32
    size: int = 64
    seed: int = 0
    num_splits: int = 3
    num_classes: int = len(CLASSES)

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
        if not 2 <= self.num_classes <= len(CLASSES):
            raise ValueError(f'num_classes must be 2..{len(CLASSES)}, got '
                             f'{self.num_classes}')
        if not 1 <= self.num_splits <= 3:
            raise ValueError(
                f'num_splits must be 1, 2 or 3, got {self.num_splits}')

    @property
    def classes(self) -> Tuple[str, ...]:
        """The class names, in label order."""
        return CLASSES[:self.num_classes]

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


def group_nuisance(spec: BenchmarkSpec, group: int) -> Dict:
    """The nuisance draw of ``group`` (1-based), shared by every class.

    Speeds are in pixels (of a ``spec.size`` frame) per frame; ``spin`` in
    radians per frame; ``growth`` is the per-frame scale factor of Approach.
    ``angle`` and ``log_scale`` are the object's orientation and (log) scale
    whenever the class does not change them.
    """
    rng = np.random.default_rng([spec.seed, group])
    log_lo, log_hi = np.log(SCALE_RANGE)
    return dict(
        angle=rng.uniform(0, 2 * np.pi),
        log_scale=rng.uniform(log_lo, log_hi),
        background=_background(rng, spec.size),
        shape=SHAPES[rng.integers(len(SHAPES))],
        colour=rng.uniform(190, 255, 3) * rng.permutation([1.0, 0.85, 0.6]),
        base_size=rng.uniform(0.10, 0.13) * spec.size,
        speed=rng.uniform(1.5, 2.5) * spec.size / 64,
        spin=np.deg2rad(rng.uniform(10, 15)),
        growth=np.exp((log_hi - log_lo) / (spec.num_frames - 1)),
        noise=rng.uniform(2, 6))


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
    if label not in CLASSES:
        raise ValueError(f'unknown class {label!r}; classes are {CLASSES}')
    length, size = spec.num_frames, spec.size
    frames = np.arange(length, dtype=np.float64)
    start = rng.uniform(0, size, 2)
    drift_angle = rng.uniform(0, 2 * np.pi)
    drift = rng.uniform(0, DRIFT_FRACTION) * nuisance['speed'] * np.array(
        [np.cos(drift_angle), np.sin(drift_angle)])
    position = start + np.outer(frames, drift)
    if label in TRANSLATIONS:
        position += np.outer(frames, TRANSLATIONS[label]) * nuisance['speed']
    elif label == 'Shake':
        phase = rng.uniform(0, 2 * np.pi)
        position[:, 0] += (
            SHAKE_AMPLITUDE * nuisance['speed'] *
            np.sin(2 * np.pi * frames / SHAKE_PERIOD + phase))

    angle = np.full(length, nuisance['angle'])
    if label == 'Spin':  # either way round
        angle += rng.choice([-1., 1.]) * nuisance['spin'] * frames

    log_low, log_high = np.log(SCALE_RANGE)
    if label == 'Approach':
        log_scale = log_low + np.log(nuisance['growth']) * frames
    elif label == 'Recede':
        log_scale = log_high - np.log(nuisance['growth']) * frames
    elif label == 'Pulse':
        centre = np.clip(nuisance['log_scale'], log_low + PULSE_AMPLITUDE,
                         log_high - PULSE_AMPLITUDE)
        log_scale = centre + PULSE_AMPLITUDE * np.sin(
            2 * np.pi * frames / PULSE_PERIOD + rng.uniform(0, 2 * np.pi))
    else:
        log_scale = np.full(length, nuisance['log_scale'])
    scale = np.exp(log_scale)
    return dict(position=position % size, scale=scale, angle=angle)


def render_video(label: str, rng: np.random.Generator, nuisance: Dict,
                 spec: BenchmarkSpec) -> np.ndarray:
    """Frames of one clip, (T, H, W, 3) uint8 BGR."""
    import cv2
    size = spec.size
    traj = trajectory(label, rng, nuisance, spec)
    frames = np.empty((spec.num_frames, size, size, 3), np.uint8)
    offsets = [(dx, dy) for dx in (-size, 0, size) for dy in (-size, 0, size)]
    for t in range(spec.num_frames):
        theta = traj['angle'][t]
        rotation = np.array([[np.cos(theta), -np.sin(theta)],
                             [np.sin(theta), np.cos(theta)]])
        polygon = (nuisance['shape'] @ rotation.T) * (
            nuisance['base_size'] * traj['scale'][t])
        mask = np.zeros((size, size), np.uint8)
        # The scene is a torus: an object leaving one side enters the other.
        for dx, dy in offsets:
            points = polygon + traj['position'][t] + (dx, dy)
            cv2.fillPoly(
                mask, [np.round(points * 4).astype(np.int32)],
                255,
                lineType=cv2.LINE_AA,
                shift=2)
        alpha = (mask.astype(np.float32) / 255)[..., None]
        frame = nuisance['background'] * (1 -
                                          alpha) + nuisance['colour'] * alpha
        frame += rng.normal(0, nuisance['noise'], frame.shape)
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
        [spec.seed, group, CLASSES.index(label), clip])
    rel = video_name(label, group, clip)
    write_video(
        osp.join(root, 'videos', rel),
        render_video(label, clip_rng, group_nuisance(spec, group), spec))
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
    from dataclasses import asdict
    spec_fields = asdict(spec)
    if spec.num_classes == len(CLASSES):
        # Manifests written before num_classes existed stay valid.
        del spec_fields['num_classes']
    manifest = dict(
        spec=spec_fields,
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
