"""What a generated collection is: its classes, size, nuisances and
splits (:class:`BenchmarkSpec`), and the motion constants."""
from __future__ import annotations
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

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
#: translations and a compact blob for the other classes, so a static probe
#: could tell them apart; a larger fraction hides the classes' own motion
#: (docs/recipe_study.md has the probes behind this value).
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
        num_classes (int, optional): The first ``num_classes`` of
            ``class_names``. Defaults to all of them.
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
    num_classes: Optional[int] = None
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
        if self.num_classes is None:
            # Frozen: the derived count is set once, as __init__ would.
            object.__setattr__(self, 'num_classes', len(names))
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
        motion10 = BenchmarkSpec()
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ('num_groups', 'clips_per_group', 'num_frames',
                          'size', 'seed', 'num_splits') or value != getattr(
                              motion10, f.name):
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
