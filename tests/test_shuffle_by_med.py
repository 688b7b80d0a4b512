import numpy as np
import pytest
from scipy.stats import chisquare

from cacl_mm.datasets.transforms import MEDPermutationSampler, ShuffleByMED
from cacl_mm.utils.edit_distance import (distance_to_identity, levenshtein,
                                         med_to_label, reachable_distances)


def draw(transform, clip_len, count):
    orders, meds, labels = [], [], []
    for _ in range(count):
        out = transform(dict(clip_len=clip_len, num_clips=1))
        orders.append(out['shuffle_order'])
        meds.append(out['med'])
        labels.append(out['med_label'])
    return np.stack(orders), np.array(meds), np.array(labels)


@pytest.mark.parametrize('clip_len', [2, 3, 8, 16, 32])
def test_exact_distance_and_uniform_classes(clip_len):
    np.random.seed(clip_len)
    orders, meds, labels = draw(ShuffleByMED(), clip_len, 50_000)

    # Every output is a permutation with exactly the reported distance.
    np.testing.assert_array_equal(
        np.sort(orders, axis=1),
        np.tile(np.arange(clip_len), (len(orders), 1)))
    np.testing.assert_array_equal(distance_to_identity(orders), meds)
    identity = list(range(clip_len))
    for order, med in zip(orders[:200], meds[:200]):
        assert levenshtein(identity, list(order)) == med
    np.testing.assert_array_equal(labels, [med_to_label(m) for m in meds])
    # Every shuffle displaces exactly as many frames as its distance (the
    # derangement proposals): the class counts the displaced frames.
    np.testing.assert_array_equal((orders != np.arange(clip_len)).sum(1), meds)

    # The distance is uniform over the reachable ones.
    reachable = reachable_distances(clip_len)
    counts = np.array([(meds == d).sum() for d in reachable])
    assert counts.sum() == len(meds)
    assert chisquare(counts).pvalue > 1e-3, counts
    assert labels.max() < clip_len


def test_chi_square_detects_the_released_codes_bias():
    # Sanity of the test itself: shuffling k random positions (the released
    # code's method) is far from uniform over distances and must fail.
    rng = np.random.default_rng(0)
    meds = []
    for _ in range(5000):
        k = rng.integers(0, 17)
        order = np.arange(16)
        pos = rng.choice(16, size=k, replace=False)
        order[pos] = rng.permutation(order[pos])
        meds.append(levenshtein(list(range(16)), list(order)))
    counts = np.array([meds.count(d) for d in reachable_distances(16)])
    assert chisquare(counts).pvalue < 1e-6


def test_reproducible_under_numpy_seed():
    np.random.seed(123)
    first = draw(ShuffleByMED(), 16, 100)[0]
    np.random.seed(123)
    second = draw(ShuffleByMED(), 16, 100)[0]
    np.random.seed(124)
    third = draw(ShuffleByMED(), 16, 100)[0]
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, third)


def test_forked_worker_gets_fresh_buffers():
    transform = ShuffleByMED()
    np.random.seed(0)
    transform(dict(clip_len=16))
    sampler = transform._samplers[16]
    transform._pid = -1  # what a forked dataloader worker sees
    np.random.seed(1)
    transform(dict(clip_len=16))
    assert transform._samplers[16] is not sampler


def test_permutations_are_not_reused():
    sampler = MEDPermutationSampler(16, np.random.default_rng(0))
    drawn = {tuple(sampler.permutation(8)) for _ in range(2000)}
    # 2000 draws among a huge set: repeats would betray a fixed bank.
    assert len(drawn) > 1990


def test_seeded_shuffles_depend_on_the_sample_alone():
    # A validation set sees the same shuffles at every evaluation, whatever
    # the global state or the order the samples are read in.
    transform = ShuffleByMED(seed=0)
    np.random.seed(1)
    first = [
        transform(dict(clip_len=16, sample_idx=i))['shuffle_order']
        for i in range(20)
    ]
    np.random.seed(2)
    again = [
        transform(dict(clip_len=16, sample_idx=i))['shuffle_order']
        for i in reversed(range(20))
    ][::-1]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert len({tuple(o) for o in first}) > 10
    other = ShuffleByMED(seed=1)(dict(clip_len=16, sample_idx=0))
    assert not np.array_equal(other['shuffle_order'], first[0])


def test_several_clips_share_one_order():
    # One clip per view (time windows): one shuffle for the sample.
    out = ShuffleByMED()(dict(clip_len=16, num_clips=2))
    assert sorted(out['shuffle_order'].tolist()) == list(range(16))


def test_clip_len_errors_name_the_problem():
    with pytest.raises(ValueError, match='clip_len=8'):
        ShuffleByMED(clip_len=16)(dict(clip_len=8))
    with pytest.raises(KeyError, match='SampleFrames'):
        ShuffleByMED()(dict())
    with pytest.raises(ValueError):
        ShuffleByMED(clip_len=1)
