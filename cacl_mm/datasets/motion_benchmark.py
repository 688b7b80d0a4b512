"""A small action benchmark that only motion and temporal order tell apart.

Ten classes in five time-reversed pairs: ``MoveLeft``/``MoveRight``,
``Approach``/``Recede``, ``Accelerate``/``Decelerate``,
``RotateClockwise``/``RotateCounterClockwise``, ``Appear``/``Vanish``. Every
video shows one textured object on a textured background. Each of the
object's attributes (position, scale, angle, opacity) either follows the
class's motion or, when the class does not move it, is held at the value the
motion would have at a random moment. So the distribution of any single
frame is the same for every class: only how frames change over time reveals
the class. Nuisances: background texture and colours, object shape, colour,
size, speed, start position, camera jitter and sensor noise.

As in UCF101, clips come in groups (``gXX``) that share their nuisance draw
(background, shape, colours, size and speed), and a split never puts one
group on both sides.
"""
from __future__ import annotations

import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np

from ..utils.atomic import atomic_write_path

CLASSES: Tuple[str, ...] = (
    'MoveLeft', 'MoveRight', 'Approach', 'Recede', 'Accelerate',
    'Decelerate', 'RotateClockwise', 'RotateCounterClockwise', 'Appear',
    'Vanish')

#: Base shapes (unit-size polygons), none with a rotational symmetry.
SHAPES: Tuple[np.ndarray, ...] = (
    np.array([[-1, -1], [1, -1], [1, -0.2], [-0.2, -0.2], [-0.2, 1], [-1, 1]]),
    np.array([[-1, -0.7], [1, 0], [-1, 0.7], [-0.5, 0]]),
    np.array([[-1, -1], [0.4, -1], [1, 0.3], [0.2, 1], [-0.6, 0.6]]),
    np.array([[-1, -0.3], [0.2, -0.3], [0.2, -1], [1, 0], [0.2, 1],
              [0.2, 0.3], [-1, 0.3]]),
)


@dataclass(frozen=True)
class BenchmarkSpec:
    """Size of the generated benchmark.

    Args:
        num_groups (int): Groups per class (UCF101 has 25).
        clips_per_group (int): Clips per group.
        num_frames (int): Frames per video.
        size (int): Frame height and width in pixels.
        seed (int): Seed of every random draw.
        num_splits (int): Train/test splits written (groups rotate through
            the test side as in UCF101's three splits).
    """
    num_groups: int = 12
    clips_per_group: int = 4
    num_frames: int = 48
    size: int = 64
    seed: int = 0
    num_splits: int = 3

    def __post_init__(self) -> None:
        if self.size < 64 or self.size % 16:
            # decord 0.6.0 mis-sizes some small XVID frames (48 px, seen here).
            raise ValueError(f'size must be a multiple of 16 and >= 64, got {self.size}')
        if self.num_groups < 3:
            raise ValueError(f'num_groups must be >= 3 (one third is held out), '
                             f'got {self.num_groups}')
        if self.num_frames < 16:
            raise ValueError(f'num_frames must be >= 16, got {self.num_frames}')


def held_out_groups(spec: BenchmarkSpec, split: int) -> List[int]:
    """1-based groups on the test side of ``split`` (1-based)."""
    per_split = max(1, spec.num_groups // 3)
    start = (split - 1) * per_split + 1
    return list(range(start, min(start + per_split, spec.num_groups + 1)))


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
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
        import cv2
        pattern = cv2.resize(coarse, (size, size),
                             interpolation=cv2.INTER_CUBIC)
        pattern /= np.abs(pattern).max() + 1e-6
    low, high = rng.uniform(20, 110, 3), rng.uniform(60, 160, 3)
    mix = (pattern[..., None] + 1) / 2
    return (low * (1 - mix) + high * mix).astype(np.float32)


def _group_nuisance(rng: np.random.Generator, spec: BenchmarkSpec) -> Dict:
    return dict(
        background=_background(rng, spec.size),
        shape=SHAPES[rng.integers(len(SHAPES))],
        colour=rng.uniform(150, 255, 3) * rng.permutation([1.0, 0.6, 0.2]),
        base_size=rng.uniform(0.09, 0.14) * spec.size,
        speed=rng.uniform(0.5, 0.8) * spec.size / spec.num_frames,
        spin=rng.uniform(2.5, 4.0) * np.pi / spec.num_frames,
        jitter=int(rng.integers(0, 2)),
        noise=rng.uniform(2, 8))


def _trajectory(label: str, rng: np.random.Generator, nuisance: Dict,
                spec: BenchmarkSpec) -> Dict[str, np.ndarray]:
    """Per-frame position (T, 2), scale, angle and opacity (T,)."""
    length, size = spec.num_frames, spec.size
    progress = np.linspace(0., 1., length)
    flip = label in ('MoveLeft', 'Recede', 'Decelerate',
                     'RotateCounterClockwise', 'Vanish')
    # Time-reversed twins share one forward motion, played backwards.
    phase = progress[::-1] if flip else progress

    start = rng.uniform(0, size, 2)
    position = np.tile(start, (length, 1))
    distance = nuisance['speed'] * (length - 1)
    if label in ('MoveLeft', 'MoveRight'):
        position[:, 0] = start[0] + distance * phase
    elif label in ('Accelerate', 'Decelerate'):
        direction = rng.choice([-1., 1.])
        position[:, 0] = start[0] + direction * 1.2 * distance * phase**2

    ratio = 2.5
    if label in ('Approach', 'Recede'):
        scale = ratio**phase
    else:
        scale = np.full(length, ratio**rng.uniform())

    angle0 = rng.uniform(0, 2 * np.pi)
    if label in ('RotateClockwise', 'RotateCounterClockwise'):
        angle = angle0 - nuisance['spin'] * (length - 1) * phase
    else:
        angle = np.full(length, angle0)

    if label in ('Appear', 'Vanish'):
        opacity = 0.1 + 0.9 * phase
    else:
        opacity = np.full(length, 0.1 + 0.9 * rng.uniform())
    return dict(position=position % size, scale=scale, angle=angle,
                opacity=opacity)


def render_video(label: str, rng: np.random.Generator, nuisance: Dict,
                 spec: BenchmarkSpec) -> np.ndarray:
    """Frames of one clip, (T, H, W, 3) uint8 BGR."""
    import cv2
    size = spec.size
    traj = _trajectory(label, rng, nuisance, spec)
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
            cv2.fillPoly(mask, [np.round(points * 4).astype(np.int32)], 255,
                         lineType=cv2.LINE_AA, shift=2)
        alpha = (mask.astype(np.float32) / 255 * traj['opacity'][t])[..., None]
        frame = nuisance['background'] * (1 - alpha) + nuisance['colour'] * alpha
        frame += rng.normal(0, nuisance['noise'], frame.shape)
        if nuisance['jitter']:
            frame = np.roll(frame, tuple(rng.integers(-1, 2, 2)), axis=(0, 1))
        frames[t] = np.clip(frame, 0, 255).astype(np.uint8)
    return frames


def write_video(path: str, frames: np.ndarray, fps: int = 25) -> None:
    """Write BGR frames as an XVID ``.avi`` (UCF101's container), atomically."""
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
    return [(label, group, clip) for label in CLASSES
            for group in range(1, spec.num_groups + 1)
            for clip in range(1, spec.clips_per_group + 1)]


def generate_one(root: str, spec: BenchmarkSpec, label: str, group: int,
                 clip: int) -> str:
    """Render and write one video; deterministic in (seed, class, group, clip)."""
    class_index = CLASSES.index(label)
    group_rng = np.random.default_rng([spec.seed, class_index, group])
    nuisance = _group_nuisance(group_rng, spec)
    clip_rng = np.random.default_rng([spec.seed, class_index, group, clip])
    rel = video_name(label, group, clip)
    write_video(osp.join(root, 'videos', rel),
                render_video(label, clip_rng, nuisance, spec))
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

    write('classInd.txt', [f'{i + 1} {c}' for i, c in enumerate(CLASSES)])
    for split in range(1, spec.num_splits + 1):
        held_out = set(held_out_groups(spec, split))
        train, test = [], []
        for label, group, clip in plan(spec):
            rel = video_name(label, group, clip)
            if group in held_out:
                test.append(rel)
            else:
                train.append(f'{rel} {CLASSES.index(label) + 1}')
        write(f'trainlist{split:02d}.txt', train)
        write(f'testlist{split:02d}.txt', test)
    return written


def _frame_features(video_path: str, frames_per_video: int) -> np.ndarray:
    import cv2
    import decord
    reader = decord.VideoReader(video_path)
    index = np.linspace(0, len(reader) - 1, frames_per_video).round()
    frames = reader.get_batch(index.astype(int).tolist()).asnumpy()
    small = [cv2.resize(f, (16, 16), interpolation=cv2.INTER_AREA)
             for f in frames]
    return np.stack(small).reshape(frames_per_video, -1).astype(np.float32)


def single_frame_probe(video_root: str, train_list: str, test_list: str,
                       frames_per_video: int = 6, epochs: int = 300,
                       seed: int = 0) -> Dict[str, float]:
    """How well one frame predicts the class: should stay near chance.

    Fits a linear classifier (softmax regression on 16x16 RGB thumbnails,
    standardised, weight decay) on single frames of the train videos and
    scores single frames of the test videos.

    Args:
        video_root (str): Folder the list paths are relative to.
        train_list (str): MMAction2 list of train videos.
        test_list (str): MMAction2 list of test videos.
        frames_per_video (int): Frames taken from each video.
        epochs (int): Full-batch optimisation steps.
        seed (int): Torch seed.

    Returns:
        dict: ``train_acc``, ``test_acc`` and ``chance`` (1 / classes).
    """
    import torch

    def load(list_file: str) -> Tuple[np.ndarray, np.ndarray]:
        feats, labels = [], []
        with open(list_file) as f:
            for line in f:
                rel, label = line.split()
                feats.append(_frame_features(osp.join(video_root, rel),
                                             frames_per_video))
                labels.extend([int(label)] * frames_per_video)
        return np.concatenate(feats), np.array(labels)

    x_train, y_train = load(train_list)
    x_test, y_test = load(test_list)
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    to_tensor = lambda a: torch.from_numpy((a - mean) / std)  # noqa: E731
    torch.manual_seed(seed)
    num_classes = int(max(y_train.max(), y_test.max())) + 1
    model = torch.nn.Linear(x_train.shape[1], num_classes)
    optim = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-3)
    xt, yt = to_tensor(x_train), torch.from_numpy(y_train)
    for _ in range(epochs):
        optim.zero_grad()
        torch.nn.functional.cross_entropy(model(xt), yt).backward()
        optim.step()
    with torch.no_grad():
        train_acc = (model(xt).argmax(1) == yt).float().mean().item()
        test_acc = (model(to_tensor(x_test)).argmax(1) == torch.from_numpy(
            y_test)).float().mean().item()
    return dict(train_acc=train_acc, test_acc=test_acc,
                chance=1.0 / num_classes)
