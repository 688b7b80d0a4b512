"""Converters on the official UCF101 split files, HMDB51 files in the official
format, and the embedded benchmark generator."""
import json
import os
import os.path as osp
import re
import subprocess
import sys
from collections import Counter, defaultdict

import numpy as np
import pytest

from cacl_mm.datasets.annotations import (AnnotationError, convert_hmdb51,
                                          convert_ucf101, hmdb51_splits,
                                          parse_class_index,
                                          subsample_per_class, ucf101_splits)
from cacl_mm.datasets.motion_benchmark import (CLASSES, DRIFT_FRACTION,
                                               TRANSLATIONS, BenchmarkSpec,
                                               group_nuisance, held_out_groups,
                                               render_video, trajectory)
from helpers import REPO

FIXTURES = osp.join(osp.dirname(REPO), 'shared', 'fixtures', 'ucf101_splits')
GROUP = re.compile(r'v_(\w+)_g(\d+)_c\d+')

needs_fixtures = pytest.mark.skipif(
    not osp.isdir(FIXTURES), reason='../shared/fixtures not present')


@needs_fixtures
def test_ucf101_official_split_one():
    train, test = convert_ucf101(FIXTURES, 1)
    assert (len(train), len(test)) == (9537, 3783)
    classes = parse_class_index(osp.join(FIXTURES, 'classInd.txt'))
    assert len(classes) == 101 and classes['ApplyEyeMakeup'] == 0
    labels = {
        side: {int(line.split()[1])
               for line in lines}
        for side, lines in (('train', train), ('test', test))
    }
    assert labels['train'] == labels['test'] == set(range(101))
    assert train[0] == 'ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 0'
    groups = defaultdict(set)
    for side, lines in (('train', train), ('test', test)):
        for line in lines:
            name, group = GROUP.search(line).groups()
            groups[(name, int(group))].add(side)
    # Split 1 holds groups 1-7 out: no group is on both sides.
    assert all(len(sides) == 1 for sides in groups.values())
    assert {g
            for (_, g), s in groups.items()
            if 'test' in s} == set(range(1, 8))


def write(path, text, crlf=True):
    with open(path, 'w', newline='') as f:
        f.write(text.replace('\n', '\r\n') if crlf else text)


@pytest.fixture
def small_ucf(tmp_path):
    write(tmp_path / 'classInd.txt', '1 Jump\n2 Run\n')
    write(tmp_path / 'trainlist01.txt',
          'Jump/v_Jump_g02_c01.avi 1\nRun/v_Run_g02_c01.avi 2\n')
    write(tmp_path / 'testlist01.txt', 'Jump/v_Jump_g01_c01.avi\n')
    return tmp_path


@pytest.mark.parametrize('file,text,match', [
    ('trainlist01.txt',
     'Jump/v_Jump_g02_c01.avi 1\nSwim/v_Swim_g02_c01.avi 3\n',
     r'trainlist01.txt:2: unknown class .Swim'),
    ('trainlist01.txt', 'Jump/v_Jump_g02_c01.avi 1\nRun/v_Run_g02_c01.avi 1\n',
     r'trainlist01.txt:2: class index 1 but folder .Run. is class 2'),
    ('trainlist01.txt', 'Jump/v_Jump_g02_c01.avi\n',
     r'trainlist01.txt:1: malformed line'),
    ('testlist01.txt', '../etc/v_x.avi\n',
     r'testlist01.txt:1: path .* outside'),
    ('classInd.txt', '1 Jump\n3 Run\n', r'classInd.txt:2: class index 3'),
    ('testlist01.txt', 'Jump/a.avi\nJump/a.avi\n',
     r'testlist01.txt:2: duplicate'),
])
def test_ucf101_errors_name_file_and_line(small_ucf, file, text, match):
    write(small_ucf / file, text)
    with pytest.raises(AnnotationError, match=match):
        convert_ucf101(str(small_ucf), 1)


def test_ucf101_missing_video_is_reported(small_ucf, tmp_path):
    videos = tmp_path / 'videos'
    (videos / 'Jump').mkdir(parents=True)
    (videos / 'Jump' / 'v_Jump_g02_c01.avi').write_bytes(b'x')
    with pytest.raises(
            AnnotationError,
            match=r'trainlist01.txt:2: video .Run/v_Run_g02_c01.avi. not found'
    ):
        convert_ucf101(str(small_ucf), 1, video_root=str(videos))


def test_ucf101_cli_writes_mmaction_lists(small_ucf, tmp_path):
    out = tmp_path / 'out'
    proc = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools/data/convert_ucf101.py'),
        str(small_ucf),
        str(out), '--splits', '1'
    ],
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    assert (out / 'ucf101_train_split_1_videos.txt').read_text() == (
        'Jump/v_Jump_g02_c01.avi 0\nRun/v_Run_g02_c01.avi 1\n')
    assert (out / 'ucf101_val_split_1_videos.txt').read_text() == (
        'Jump/v_Jump_g01_c01.avi 0\n')
    write(small_ucf / 'testlist01.txt', 'Fly/v_Fly_g01_c01.avi\n')
    proc = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools/data/convert_ucf101.py'),
        str(small_ucf),
        str(out), '--splits', '1'
    ],
                          capture_output=True,
                          text=True)
    assert proc.returncode == 1
    assert 'testlist01.txt:1: unknown class' in proc.stderr


def test_ucf101_cli_converts_the_splits_that_exist(small_ucf, tmp_path):
    """One split in the folder (a user's own collection): no --splits needed,
    the tool says what it found; asking for a split that is not there names
    the splits that are, before writing anything."""
    tool = osp.join(REPO, 'tools/data/convert_ucf101.py')
    out = tmp_path / 'out'
    proc = subprocess.run(
        [sys.executable, tool, str(small_ucf),
         str(out)],
        capture_output=True,
        text=True)
    assert proc.returncode == 0, proc.stderr
    assert 'split(s) 1 found' in proc.stdout
    assert sorted(os.listdir(out)) == [
        'ucf101_train_split_1_videos.txt', 'ucf101_val_split_1_videos.txt'
    ]
    other = tmp_path / 'other'
    proc = subprocess.run([
        sys.executable, tool,
        str(small_ucf),
        str(other), '--splits', '1', '2'
    ],
                          capture_output=True,
                          text=True)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f'error: {small_ucf}: split 2 has no files (split(s) 1 exist: '
        '--splits 1)')
    assert not other.exists()
    proc = subprocess.run(
        [sys.executable, tool,
         str(tmp_path / 'nowhere'),
         str(other)],
        capture_output=True,
        text=True)
    assert proc.returncode == 1
    assert 'nowhere: folder not found' in proc.stderr


def test_split_discovery(small_ucf, small_hmdb):
    assert ucf101_splits(str(small_ucf)) == [1]
    write(small_ucf / 'trainlist03.txt', '')
    assert ucf101_splits(str(small_ucf)) == [1]  # testlist03.txt missing
    write(small_ucf / 'testlist03.txt', '')
    assert ucf101_splits(str(small_ucf)) == [1, 3]
    assert hmdb51_splits(str(small_hmdb)) == [1]
    write(small_hmdb / 'run_test_split2.txt', 'r1.avi 1 \n')
    assert hmdb51_splits(str(small_hmdb)) == [1, 2]


@pytest.fixture
def small_hmdb(tmp_path):
    # Official format: "<video> <0|1|2> " with a trailing space, CRLF.
    write(tmp_path / 'run_test_split1.txt',
          'r1.avi 1 \nr2.avi 2 \nr3.avi 0 \n')
    write(tmp_path / 'jump_test_split1.txt', 'j1.avi 2 \nj2.avi 1 \n')
    return tmp_path


def test_hmdb51_labels_follow_sorted_actions(small_hmdb):
    train, test = convert_hmdb51(str(small_hmdb), 1)
    assert train == ['jump/j2.avi 0', 'run/r1.avi 1']
    assert test == ['jump/j1.avi 0', 'run/r2.avi 1']


def test_hmdb51_errors(small_hmdb):
    write(small_hmdb / 'run_test_split1.txt', 'r1.avi 1\nr2.avi 7\n')
    with pytest.raises(AnnotationError, match=r'run_test_split1.txt:2:'):
        convert_hmdb51(str(small_hmdb), 1)
    with pytest.raises(AnnotationError, match='no \\*_test_split2.txt'):
        convert_hmdb51(str(small_hmdb), 2)


SMALL = BenchmarkSpec(
    num_groups=3, clips_per_group=2, num_frames=24, size=64, seed=3)
GENERATE = osp.join(REPO, 'tools', 'data', 'generate_motion_benchmark.py')


def test_single_frames_carry_no_class_by_construction():
    # Each attribute's per-frame distribution is the same for every class:
    # its mean over groups, clips and frames agrees within a few percent.
    spec = BenchmarkSpec(num_frames=32, num_groups=200)
    stats = {}
    for label in CLASSES:
        values = defaultdict(list)
        for group in range(1, spec.num_groups + 1):
            rng = np.random.default_rng([group, CLASSES.index(label)])
            traj = trajectory(label, rng, group_nuisance(spec, group), spec)
            t = rng.integers(spec.num_frames)
            values['x'].append(traj['position'][t, 0])
            values['y'].append(traj['position'][t, 1])
            values['log_scale'].append(np.log(traj['scale'][t]))
            values['angle'].append(traj['angle'][t] % (2 * np.pi))
        stats[label] = {k: np.mean(v) for k, v in values.items()}
    for key, tolerance in (('x', 4.0), ('y', 4.0), ('log_scale', 0.12),
                           ('angle', 0.5)):
        means = [s[key] for s in stats.values()]
        assert max(means) - min(means) < 2 * tolerance, (key, means)


def test_each_class_moves_as_named():
    spec = BenchmarkSpec(num_frames=32)
    nuisance = group_nuisance(spec, 1)
    speed = nuisance['speed']

    def traj(label):
        return trajectory(label, np.random.default_rng(0), nuisance, spec)

    def unwrapped_step(label):  # mean per-frame step, undoing the torus wrap
        steps = np.diff(traj(label)['position'], axis=0)
        return ((steps + spec.size / 2) % spec.size - spec.size / 2).mean(0)

    drift = DRIFT_FRACTION * speed
    for label, (dx, dy) in TRANSLATIONS.items():
        step = unwrapped_step(label)
        assert abs(step[0] - dx * speed) <= drift + 1e-9, label
        assert abs(step[1] - dy * speed) <= drift + 1e-9, label
    for label in ('Still', 'Spin', 'Pulse'):
        assert np.abs(unwrapped_step(label)).max() <= drift + 1e-9, label
    assert np.all(np.diff(traj('Approach')['scale']) > 0)
    assert np.all(np.diff(traj('Recede')['scale']) < 0)
    assert np.ptp(traj('Spin')['angle']) > 1.0
    assert np.ptp(traj('Still')['angle']) == 0
    assert np.ptp(np.log(traj('Pulse')['scale'])) > 0.4
    with pytest.raises(ValueError, match='unknown class'):
        trajectory('Jump', np.random.default_rng(0), nuisance, spec)


def test_generator_layout_determinism_and_static_probes(tmp_path):
    root = str(tmp_path / 'bench')
    args = [
        sys.executable, GENERATE, root, '--num-groups', '3',
        '--clips-per-group', '2', '--num-frames', '24', '--seed', '3',
        '--workers', '1'
    ]
    proc = subprocess.run(args + ['--check'], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'mean-frame linear probe: test accuracy' in proc.stdout
    videos = osp.join(root, 'videos')
    assert osp.isfile(osp.join(videos, 'MoveLeft', 'v_MoveLeft_g01_c01.avi'))
    with open(osp.join(root, 'annotations', 'classInd.txt'), newline='') as f:
        assert f.readline() == '1 MoveLeft\r\n'
    train = open(osp.join(
        root, 'motion10_train_split_1_videos.txt')).read().split('\n')
    test = open(osp.join(root,
                         'motion10_val_split_1_videos.txt')).read().split('\n')
    train, test = [x for x in train if x], [x for x in test if x]
    assert len(train) + len(test) == 10 * 3 * 2
    held_out = set(held_out_groups(SMALL, 1))
    assert {int(GROUP.search(x).group(2)) for x in test} == held_out
    assert not held_out & {int(GROUP.search(x).group(2)) for x in train}
    # Every group holds every class (a group is one nuisance draw).
    for lines in (train, test):
        by_group = defaultdict(set)
        for line in lines:
            name, group = GROUP.search(line).groups()
            by_group[group].add(name)
        assert all(len(names) == 10 for names in by_group.values())
    # The few-label list: 10% of each class (at least one video), a subset.
    few = open(osp.join(
        root, 'motion10_train_split_1_10pct_videos.txt')).read().split()
    few = [few[i:i + 2] for i in range(0, len(few), 2)]
    assert sorted(int(label) for _, label in few) == list(range(10))
    assert {f'{p} {l}' for p, l in few} <= set(train)

    # Deterministic: the same spec renders the same frames.
    rng_a, rng_b = (np.random.default_rng(7) for _ in range(2))
    nuisance = group_nuisance(SMALL, 1)
    np.testing.assert_array_equal(
        render_video('Spin', rng_a, nuisance, SMALL),
        render_video('Spin', rng_b, nuisance, SMALL))

    # A second run reuses the videos (same bytes, nothing rewritten).
    stamp = osp.getmtime(osp.join(videos, 'Still', 'v_Still_g03_c02.avi'))
    proc = subprocess.run(args, capture_output=True, text=True)
    assert proc.returncode == 0 and 'reusing them' in proc.stdout
    assert osp.getmtime(osp.join(videos, 'Still',
                                 'v_Still_g03_c02.avi')) == stamp

    # The static probes: 20 test videos (single frames: x 6); chance 0.1.
    probes = json.loads(open(osp.join(root, 'static_probes.json')).read())
    for name in ('single_frame_probe', 'mean_frame_probe'):
        assert probes[name]['chance'] == pytest.approx(0.1)
        assert probes[name]['test_acc'] < 0.1 + 0.15, probes
        assert probes[name]['train_acc'] > 0.5  # the probe fits what it sees


def test_subsample_per_class_keeps_each_class():
    lines = [f'v{i}.avi {i % 3}' for i in range(30)] + ['w.avi 3']
    kept = subsample_per_class(lines, 0.2, seed=0)
    counts = Counter(line.split()[1] for line in kept)
    # 10 videos per class 0-2 -> 2 each; class 3 has one video: kept.
    assert counts == {'0': 2, '1': 2, '2': 2, '3': 1}
    assert kept == [line for line in lines if line in kept]  # order kept
    assert subsample_per_class(lines, 0.2, seed=0) == kept
    with pytest.raises(ValueError, match='fraction'):
        subsample_per_class(lines, 0)


def test_hmdb51_cli_writes_mmaction_lists(small_hmdb, tmp_path):
    out = tmp_path / 'out'
    proc = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools/data/convert_hmdb51.py'),
        str(small_hmdb),
        str(out), '--splits', '1'
    ],
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    assert (out / 'hmdb51_train_split_1_videos.txt').read_text() == (
        'jump/j2.avi 0\nrun/r1.avi 1\n')


def test_benchmark_with_fewer_classes():
    spec = BenchmarkSpec(num_classes=6, num_groups=3)
    assert spec.classes == CLASSES[:6]
    assert spec.num_videos == 6 * 3 * 2
    with pytest.raises(ValueError, match='num_classes must be 2..10'):
        BenchmarkSpec(num_classes=1)
