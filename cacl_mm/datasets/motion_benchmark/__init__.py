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
from .render import (camera_pan, companion_trajectory, group_nuisance,
                     render_video, trajectory)
from .spec import (CLASSES, DRIFT_FRACTION, GENERATOR_VERSION, NOD_PERIOD,
                   ORBIT_PERIOD, ORBIT_RADIUS, PULSE_AMPLITUDE, PULSE_PERIOD,
                   REFERENCE_FPS, SCALE_RANGE, SHAKE_AMPLITUDE, SHAKE_PERIOD,
                   SHAPES, TRANSLATIONS, TWO_OBJECT_CLASSES, VOCABULARY,
                   WOBBLE_AMPLITUDE, WOBBLE_PERIOD, ZIGZAG_HALF_PERIOD,
                   BenchmarkSpec, held_out_groups)
from .video_io import write_video
from .writer import (few_label_list_name, generate_benchmark, generate_one,
                     plan, video_name, write_official_lists)

__all__ = [
    'BenchmarkSpec', 'CLASSES', 'DRIFT_FRACTION', 'GENERATOR_VERSION',
    'NOD_PERIOD', 'ORBIT_PERIOD', 'ORBIT_RADIUS', 'PULSE_AMPLITUDE',
    'PULSE_PERIOD', 'REFERENCE_FPS', 'SCALE_RANGE', 'SHAKE_AMPLITUDE',
    'SHAKE_PERIOD', 'SHAPES', 'TRANSLATIONS', 'TWO_OBJECT_CLASSES',
    'VOCABULARY', 'WOBBLE_AMPLITUDE', 'WOBBLE_PERIOD', 'ZIGZAG_HALF_PERIOD',
    'camera_pan', 'companion_trajectory', 'few_label_list_name',
    'generate_benchmark', 'generate_one', 'group_nuisance', 'held_out_groups',
    'plan', 'render_video', 'trajectory', 'video_name', 'write_official_lists',
    'write_video'
]
