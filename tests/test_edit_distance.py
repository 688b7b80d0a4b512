import itertools
import json
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

from cacl_mm.utils.edit_distance import (distance_to_identity, label_to_med,
                                         levenshtein, med_to_label,
                                         reachable_distances)
from helpers import REPO


@pytest.mark.parametrize(
    'source,target,expected',
    [
        ('kitten', 'sitting', 3),  # k->s, e->i, insert g
        ('flaw', 'lawn', 2),  # delete f, insert n
        ('', 'abc', 3),
        ('abc', 'abc', 0),
        ([0, 1, 2], [1, 0, 2], 2),  # adjacent swap: two substitutions
        ([0, 1, 2, 3], [1, 2, 3, 0], 2),  # rotation: delete 0, append 0
        ([0, 1, 2], [2, 1, 0], 2),  # swap the ends, 1 stays
        ([0, 1, 2, 3, 4], [4, 1, 2, 3, 0], 2),
        # two disjoint swaps: delete 0, keep 1, substitute 2->0, keep 3,
        # insert 2
        ([0, 1, 2, 3], [1, 0, 3, 2], 3),
    ])
def test_levenshtein_hand_worked(source, target, expected):
    assert levenshtein(source, target) == expected
    assert levenshtein(target, source) == expected


@pytest.mark.parametrize('length', [1, 2, 3, 5, 8, 16, 32, 63, 64, 70])
def test_batched_distance_matches_dynamic_programme(length):
    rng = np.random.default_rng(length)
    perms = np.argsort(rng.random((300, length)), axis=1)
    # Include near-identity rows, where cheap alignments matter most.
    perms[0] = np.arange(length)
    if length > 1:
        perms[1] = np.roll(np.arange(length), 1)
    fast = distance_to_identity(perms)
    identity = list(range(length))
    slow = [levenshtein(identity, list(p)) for p in perms]
    np.testing.assert_array_equal(fast, slow)


@pytest.mark.parametrize('length', range(2, 8))
def test_reachable_distances_match_exhaustive_enumeration(length):
    perms = np.array(list(itertools.permutations(range(length))))
    reached = sorted(set(distance_to_identity(perms).tolist()))
    assert tuple(reached) == reachable_distances(length)


def test_reachable_distances_of_sixteen_frames():
    assert reachable_distances(16) == (0, ) + tuple(range(2, 17))
    with pytest.raises(ValueError):
        reachable_distances(1)


def test_med_label_round_trip():
    assert [med_to_label(d) for d in (0, 2, 3, 16)] == [0, 1, 2, 15]
    assert [label_to_med(c) for c in (0, 1, 2, 15)] == [0, 2, 3, 16]
    with pytest.raises(ValueError):
        med_to_label(1)


def test_med_bounds_tool(tmp_path):
    """tools/med_bounds.py: 4 frames have 24 shuffles, so an MLP on the
    exact 4 x 4 permutation matrices learns every distance class; merged to
    2 x 2 it cannot (no shuffle and a swap inside a pair look alike)."""
    out = tmp_path / 'bounds.json'
    proc = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools',
                 'med_bounds.py'), '--clip-len', '4', '--slots', '4', '2',
        '--num-train', '2000', '--num-test', '400', '--epochs', '20', '--out',
        str(out)
    ],
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    bounds = json.loads(out.read_text())
    assert set(bounds) == {'chance', 'clip_statistics', 'slots_4', 'slots_2'}
    assert bounds['chance'] == 0.25
    assert bounds['slots_4'] == 1.0
    assert bounds['chance'] < bounds['slots_2'] < 1.0
    assert bounds['chance'] < bounds['clip_statistics'] <= 1.0
    assert 'slots_4: 100.0%' in proc.stdout
