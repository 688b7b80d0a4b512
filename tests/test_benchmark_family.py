"""The benchmark family: the generator's new motions and nuisances, the
declared members, and their generation through the tool."""
import hashlib
import json
import os.path as osp
import subprocess
import sys
from collections import defaultdict

import numpy as np
import pytest

from cacl_mm.datasets import motion_benchmark as mb
from cacl_mm.datasets.benchmark_family import FAMILY, family_roles
from cacl_mm.datasets.motion_benchmark import (BenchmarkSpec, camera_pan,
                                               companion_trajectory,
                                               group_nuisance, held_out_groups,
                                               render_video, trajectory)
from helpers import REPO

GENERATE = osp.join(REPO, 'tools', 'data', 'generate_motion_benchmark.py')
ALL = BenchmarkSpec(class_names=mb.VOCABULARY, num_classes=len(mb.VOCABULARY))


def unwrap(position: np.ndarray, size: int) -> np.ndarray:
    """Per-frame steps of a toroidal trajectory, wrap undone."""
    steps = np.diff(position, axis=0)
    return (steps + size / 2) % size - size / 2


def test_motion10_videos_are_unchanged_byte_for_byte():
    # Rendered by the generator before the family existed (commit 2419581):
    # new nuisances draw after motion10's draws and only when asked for.
    spec = BenchmarkSpec()
    digest = hashlib.sha256()
    for label in ('MoveLeft', 'Spin', 'Pulse', 'Still'):
        rng = np.random.default_rng([0, 2, mb.CLASSES.index(label), 1])
        digest.update(
            render_video(label, rng, group_nuisance(spec, 2), spec).tobytes())
    assert digest.hexdigest()[:16] == MOTION10_DIGEST


MOTION10_DIGEST = '6e6fb375ac358f73'


def test_new_motions_move_as_named():
    nuisance = group_nuisance(ALL, 1)
    speed, size = nuisance['speed'], ALL.size
    drift = mb.DRIFT_FRACTION * speed + 1e-9

    def traj(label, seed=0):
        return trajectory(label, np.random.default_rng(seed), nuisance, ALL)

    for label, (dx, dy) in (('MoveUpLeft', (-1, -1)), ('MoveDownRight', (1,
                                                                         1))):
        step = unwrap(traj(label)['position'], size).mean(0)
        expected = np.array([dx, dy]) * speed / np.sqrt(2)
        assert np.abs(step - expected).max() <= drift, label
    spin = nuisance['spin']
    assert np.allclose(np.diff(traj('SpinClockwise')['angle']), spin)
    assert np.allclose(np.diff(traj('SpinAnticlockwise')['angle']), -spin)
    wobble = traj('Wobble')['angle'] - nuisance['angle']
    assert np.abs(wobble).max() <= mb.WOBBLE_AMPLITUDE + 1e-9
    assert np.ptp(wobble) > mb.WOBBLE_AMPLITUDE  # it turns back
    # Nod: vertical, Shake's amplitude and period; x only drifts.
    nod = np.cumsum(unwrap(traj('Nod')['position'], size), 0)
    assert np.ptp(nod[:, 0]) <= drift * ALL.num_frames
    assert abs(np.ptp(nod[:, 1]) - 2 * mb.SHAKE_AMPLITUDE * speed) <= (
        drift * ALL.num_frames + 0.5)
    assert mb.NOD_PERIOD == mb.SHAKE_PERIOD
    # Orbit: a circle of mb.ORBIT_RADIUS x speed once the drift is removed.
    rng = np.random.default_rng(0)
    orbit = traj('Orbit')
    rng.uniform(0, size, 2)  # the start, drawn as trajectory() draws it
    drift_angle = rng.uniform(0, 2 * np.pi)
    drift_speed = rng.uniform(0, mb.DRIFT_FRACTION) * speed
    path = np.concatenate([[[0, 0]],
                           np.cumsum(unwrap(orbit['position'], size), 0)])
    path -= np.outer(
        np.arange(ALL.num_frames),
        drift_speed * np.array([np.cos(drift_angle),
                                np.sin(drift_angle)]))
    centre = path.mean(0)  # 32 frames = 2 whole turns of 16
    radius = np.linalg.norm(path - centre, axis=1)
    assert np.allclose(radius, mb.ORBIT_RADIUS * speed, atol=1e-6)
    # ZigZag: x reverses every mb.ZIGZAG_HALF_PERIOD frames.
    steps = unwrap(traj('ZigZag')['position'], size)[:, 0]
    turns = np.sum(np.diff(np.sign(steps)) != 0)
    expected = ALL.num_frames / mb.ZIGZAG_HALF_PERIOD
    assert expected - 1.5 <= turns <= expected + 0.5, turns


def test_two_object_classes_define_the_second_object():
    nuisance = group_nuisance(ALL, 1)
    speed, size = nuisance['speed'], ALL.size
    drift = mb.DRIFT_FRACTION * speed + 1e-9
    assert ALL.num_objects == 2 and set(mb.TWO_OBJECT_CLASSES) <= set(
        mb.VOCABULARY)
    assert BenchmarkSpec().num_objects == 1

    def pair(label):
        rng = np.random.default_rng(0)
        first = trajectory(label, rng, nuisance, ALL)
        return first, companion_trajectory(label, rng, nuisance, ALL, first)

    first, second = pair('Cross')
    assert abs(unwrap(first['position'], size)[:, 0].mean() - speed) <= drift
    assert abs(unwrap(second['position'], size)[:, 0].mean() + speed) <= drift
    first, second = pair('Follow')
    assert np.allclose(
        unwrap(first['position'], size), unwrap(second['position'], size))
    for label in ('Still', 'MoveLeft'):  # the second object only drifts
        _, second = pair(label)
        assert np.abs(unwrap(second['position'], size)).max() <= drift


def test_single_frames_carry_no_class_in_the_whole_vocabulary():
    # As test_data_tools' check for motion10, for all 20 motions and both
    # objects: each attribute's per-frame mean agrees across classes.
    spec = BenchmarkSpec(
        class_names=mb.VOCABULARY,
        num_classes=len(mb.VOCABULARY),
        num_groups=150,
        camera_motion=0.3)
    stats = {}
    for label in spec.classes:
        values = defaultdict(list)
        for group in range(1, spec.num_groups + 1):
            rng = np.random.default_rng([group, mb.VOCABULARY.index(label)])
            nuisance = group_nuisance(spec, group)
            first = trajectory(label, rng, nuisance, spec)
            second = companion_trajectory(label, rng, nuisance, spec, first)
            t = rng.integers(spec.num_frames)
            for name, traj in (('first', first), ('second', second)):
                values[f'{name}_x'].append(traj['position'][t, 0])
                values[f'{name}_y'].append(traj['position'][t, 1])
            values['log_scale'].append(np.log(first['scale'][t]))
            values['angle'].append(first['angle'][t] % (2 * np.pi))
        stats[label] = {k: np.mean(v) for k, v in values.items()}
    for key, tolerance in (('first_x', 5.0), ('first_y', 5.0),
                           ('second_x', 5.0), ('second_y', 5.0),
                           ('log_scale', 0.15), ('angle', 0.6)):
        means = [s[key] for s in stats.values()]
        assert max(means) - min(means) < 2 * tolerance, (key, means)


def test_frame_rate_keeps_motion_per_second():
    slow, fast = BenchmarkSpec(fps=25), BenchmarkSpec(fps=50)
    a, b = group_nuisance(slow, 3), group_nuisance(fast, 3)
    assert b['speed'] == pytest.approx(a['speed'] / 2)
    assert b['spin'] == pytest.approx(a['spin'] / 2)
    # Shake's period doubles in frames: its x position repeats after 14.
    spec = BenchmarkSpec(fps=50, num_frames=40)
    nuisance = group_nuisance(spec, 3)
    nuisance['speed'] = 1.0  # no drift to speak of: compare shapes only
    x = trajectory('Shake', np.random.default_rng(1), nuisance,
                   spec)['position'][:, 0]
    steps = unwrap(x[:, None], spec.size)[:, 0]
    wave = steps[:-14] - steps[14:]  # the drift cancels, the wave repeats
    assert np.abs(wave).max() < 1e-6


def test_camera_pans_the_whole_scene():
    spec = BenchmarkSpec(camera_motion=1.0)
    nuisance = group_nuisance(spec, 1)
    pan = camera_pan(np.random.default_rng(0), nuisance, spec)
    velocity = np.diff(pan, axis=0)
    assert np.allclose(velocity, velocity[0])  # constant per clip
    assert np.linalg.norm(velocity[0]) <= nuisance['speed']
    assert not camera_pan(np.random.default_rng(0), nuisance,
                          BenchmarkSpec()).any()
    # A panning Still video changes between frames far more than a still
    # one: its background moves.
    still, panned = (
        render_video('Still', np.random.default_rng(5), group_nuisance(s, 1),
                     s).astype(float)
        for s in (BenchmarkSpec(), BenchmarkSpec(camera_motion=2.0)))
    assert np.abs(np.diff(
        panned, axis=0)).mean() > 2 * np.abs(np.diff(still, axis=0)).mean()


def test_spec_errors_name_the_field():
    with pytest.raises(ValueError, match='class_names must be distinct'):
        BenchmarkSpec(class_names=('MoveLeft', 'Jump'), num_classes=2)
    with pytest.raises(ValueError, match='class_names must be distinct'):
        BenchmarkSpec(class_names=('MoveLeft', 'MoveLeft'), num_classes=2)
    with pytest.raises(ValueError, match='texture'):
        BenchmarkSpec(texture='grass')
    with pytest.raises(ValueError, match='fps'):
        BenchmarkSpec(fps=0)
    with pytest.raises(ValueError, match='noise'):
        BenchmarkSpec(noise=(5.0, 1.0))


def test_num_classes_defaults_to_every_named_class():
    spec = BenchmarkSpec(class_names=('Spin', 'Nod', 'Still'))
    assert spec.num_classes == 3 and spec.classes == ('Spin', 'Nod', 'Still')
    assert BenchmarkSpec(
        class_names=('Spin', 'Nod', 'Still'),
        num_classes=2).classes == ('Spin', 'Nod')
    # The manifest keeps listing what differs from motion10 (its 10
    # classes): a derived count is written only where it is not 10.
    assert 'num_classes' not in BenchmarkSpec().non_defaults()
    assert spec.non_defaults()['num_classes'] == 3
    assert FAMILY['small6'].spec.non_defaults()['num_classes'] == 6


def train_videos(spec: BenchmarkSpec) -> int:
    groups = spec.num_groups - len(held_out_groups(spec, 1))
    return spec.num_classes * groups * spec.clips_per_group


def test_family_covers_what_the_recipe_must_survive():
    roles = family_roles()
    assert len(roles['held_out']) >= 2 and 'motion10' in roles['tune']
    sizes = {name: train_videos(m.spec) for name, m in FAMILY.items()}
    assert sizes['motion10'] == 400 and sizes['own8'] == 192
    assert sizes['spin7'] == 140  # one clip per group, a third held out
    assert min(sizes.values()) <= 150 and max(sizes.values()) >= 800
    classes = {m.spec.num_classes for m in FAMILY.values()}
    assert min(classes) == 6 and max(classes) == 20
    assert len({m.spec.size for m in FAMILY.values()}) >= 3
    assert len({m.spec.fps for m in FAMILY.values()}) >= 3
    assert len({m.spec.num_frames for m in FAMILY.values()}) >= 3
    new = set(mb.VOCABULARY) - set(mb.CLASSES)
    for role in ('tune', 'held_out'):  # new motions on both sides
        members = [FAMILY[n].spec for n in roles[role]]
        assert any(set(s.classes) & new for s in members), role
        assert any(s.camera_motion for s in members), role
        # Clutter on both sides: a failure that only clutter shows must
        # be measurable on a member the rules may be tuned on.
        assert any(s.texture == 'busy' for s in members), role
    assert any(m.spec.num_objects == 2 for m in FAMILY.values())


def test_the_tool_writes_a_member(tmp_path):
    # small6 with 3 groups (one held out) and four of its motions: 4 classes
    # (every one named: the member's count of 6 does not carry over) x 2
    # train groups x 2 clips.
    root = tmp_path / 'small6'
    proc = subprocess.run([
        sys.executable, GENERATE,
        str(root), '--collection', 'small6', '--num-groups', '3', '--workers',
        '1', '--classes', 'SpinClockwise', 'Orbit', 'Nod', 'Still'
    ],
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    train = (root / 'small6_train_split_1_videos.txt').read_text().split('\n')
    assert len([line for line in train if line]) == 16
    manifest = json.loads((root / 'benchmark.json').read_text())
    assert manifest['spec']['fps'] == 30
    assert manifest['spec']['num_classes'] == 4
    assert manifest['spec']['class_names'][0] == 'SpinClockwise'
    assert (root / 'annotations' /
            'classInd.txt').read_bytes().startswith(b'1 SpinClockwise\r\n')
    import decord
    reader = decord.VideoReader(
        str(root / 'videos' / 'Orbit' / 'v_Orbit_g01_c01.avi'))
    assert len(reader) == 48 and round(reader.get_avg_fps()) == 30
    proc = subprocess.run([
        sys.executable, GENERATE,
        str(tmp_path / 'x'), '--collection', 'nope'
    ],
                          capture_output=True,
                          text=True)
    assert proc.returncode == 2 and 'not a member of the family' in \
        proc.stderr
