import math

import pytest
import torch
import torch.nn.functional as F

from cacl_mm.models import (CNN_K, CNN_Q, PAPER_PAIRS, REPRESENTATIONS,
                            TRANS_K, TRANS_Q, Arch, ArrowOfTimeHead,
                            CrossArchContrastiveHead, KeyQueue, ProjectionNeck,
                            Representation, ShuffleDegreeHead, info_nce,
                            mean_pairwise_cosine, parse_pairs)


def test_info_nce_hand_computed():
    anchor = torch.tensor([[1., 0.], [0., 1.]])
    positive = torch.tensor([[0.6, 0.8], [0., 1.]])
    negatives = torch.tensor([[0., 1.], [-1., 0.]])
    # Row 1 logits / 0.5: pos 1.2, negs 0 and -2. Row 2: pos 2, negs 2, 0.
    row1 = math.log(1 + math.exp(-1.2) + math.exp(-3.2))
    row2 = math.log(2 + math.exp(-2))
    loss = info_nce(anchor, positive, negatives, temperature=0.5)
    assert loss.item() == pytest.approx((row1 + row2) / 2, abs=1e-6)


def test_info_nce_batch_negatives_hand_computed():
    anchor = torch.tensor([[1., 0.], [0., 1.]])
    positive = torch.tensor([[0.6, 0.8], [0., 1.]])
    negatives = torch.tensor([[0., 1.], [-1., 0.]])
    # The other row's positive joins the negatives. Row 1 logits / 0.5:
    # pos 1.2, batch neg 0 (anchor 1 . positive 2), queue 0 and -2.
    # Row 2: pos 2, batch neg 1.6 (0.8 / 0.5), queue 2 and 0.
    row1 = math.log(1 + math.exp(-1.2) + math.exp(-1.2) + math.exp(-3.2))
    row2 = math.log(1 + math.exp(-0.4) + 1 + math.exp(-2))
    loss = info_nce(
        anchor, positive, negatives, temperature=0.5, batch_negatives=True)
    assert loss.item() == pytest.approx((row1 + row2) / 2, abs=1e-6)


def test_info_nce_masks_negatives_of_the_same_video():
    anchor = torch.tensor([[1., 0.], [0., 1.]])
    positive = torch.tensor([[0.6, 0.8], [0., 1.]])
    negatives = torch.tensor([[0., 1.], [-1., 0.]])
    # Queue key 0 is of video 7 (row 2's own video): row 2 loses that
    # negative (logit 2); video -1 is never masked.
    loss = info_nce(
        anchor,
        positive,
        negatives,
        temperature=0.5,
        anchor_ids=torch.tensor([3, 7]),
        negative_ids=torch.tensor([7, -1]))
    row1 = math.log(1 + math.exp(-1.2) + math.exp(-3.2))
    row2 = math.log(1 + math.exp(-2))
    assert loss.item() == pytest.approx((row1 + row2) / 2, abs=1e-6)
    # Two clips of one video in a batch are not each other's negatives.
    loss = info_nce(
        anchor,
        positive,
        negatives[:0],
        temperature=0.5,
        batch_negatives=True,
        anchor_ids=torch.tensor([5, 5]),
        negative_ids=torch.zeros(0, dtype=torch.long))
    assert loss.item() == pytest.approx(0.0, abs=1e-6)


def test_mean_pairwise_cosine():
    same = torch.tensor([[1., 0.], [2., 0.], [3., 0.]])
    assert mean_pairwise_cosine(same).item() == pytest.approx(1.0)
    spread = torch.tensor([[1., 0.], [0., 1.], [-1., 0.]])
    # pairs: 0, -1, 0 -> mean -1/3
    assert mean_pairwise_cosine(spread).item() == pytest.approx(-1 / 3)


def make_head(pairs=PAPER_PAIRS, **kwargs):
    return CrossArchContrastiveHead(pairs=pairs, temperature=0.5, **kwargs)


def fixed_embeddings():
    vectors = {
        CNN_Q: [[1., 0.], [0., 1.]],
        CNN_K: [[0.6, 0.8], [0., 1.]],
        TRANS_Q: [[0.8, 0.6], [1., 0.]],
        TRANS_K: [[0., 1.], [-0.6, 0.8]],
    }
    return {k: torch.tensor(v) for k, v in vectors.items()}


def fixed_negatives(cnn_ids=(-1, -1, -1)):
    return {
        Arch.CNN: (torch.tensor([[0., 1.], [-1., 0.],
                                 [0., -1.]]), torch.tensor(cnn_ids)),
        Arch.TRANSFORMER: (torch.tensor([[1., 0.], [0., -1.],
                                         [-1.,
                                          0.]]), torch.tensor([-1, -1, -1])),
    }


def test_head_loss_is_the_sum_of_configured_pair_terms():
    head = make_head(batch_negatives=False)
    emb, negatives = fixed_embeddings(), fixed_negatives()
    losses = head.loss(emb, negatives)
    expected = {}
    for a, b in PAPER_PAIRS:
        queue = negatives[b.arch][0]
        expected[f'nce_{a}-{b}'] = info_nce(emb[a], emb[b], queue, 0.5)
        assert losses[f'nce_{a}-{b}'].item() == pytest.approx(
            expected[f'nce_{a}-{b}'].item(), abs=1e-6)
    # The released code averages over its four positives: the mean.
    assert losses['loss_contrast'].item() == pytest.approx(
        sum(v.item() for v in expected.values()) / 4, abs=1e-5)
    # The (cnn_q, cnn_k) term by hand: row 1 logits pos 1.2, negs 0, -2, 0;
    # row 2: pos 2, negs 2, 0, -2.
    row1 = math.log(1 + math.exp(-1.2) + math.exp(-3.2) + math.exp(-1.2))
    row2 = math.log(2 + math.exp(-2) + math.exp(-4))
    assert losses['nce_cnn_q-cnn_k'].item() == pytest.approx(
        (row1 + row2) / 2, abs=1e-6)
    # The collapse monitor of each online representation.
    assert losses['cos_cnn_q'].item() == pytest.approx(0.0)
    assert losses['cos_trans_q'].item() == pytest.approx(0.8)


def test_head_defaults_use_batch_negatives_and_video_ids():
    head = make_head()
    emb, negatives = fixed_embeddings(), fixed_negatives((4, -1, -1))
    ids = torch.tensor([4, 9])
    losses = head.loss(emb, negatives, sample_ids=ids)
    keys, key_ids = negatives[Arch.CNN]
    expected = info_nce(
        emb[CNN_Q],
        emb[CNN_K],
        keys,
        0.5,
        batch_negatives=True,
        anchor_ids=ids,
        negative_ids=key_ids)
    assert losses['nce_cnn_q-cnn_k'].item() == pytest.approx(
        expected.item(), abs=1e-6)
    # The four terms averaged, as the released code averages its positives.
    terms = [losses[f'nce_{a}-{b}'].item() for a, b in PAPER_PAIRS]
    assert losses['loss_contrast'].item() == pytest.approx(
        sum(terms) / 4, abs=1e-5)


def test_removing_a_pair_removes_exactly_its_term():
    full = make_head()
    fewer = make_head([('cnn_q', 'cnn_k'), ('cnn_q', 'trans_k'),
                       ('trans_q', 'trans_k')])
    emb, negatives = fixed_embeddings(), fixed_negatives()
    a, b = full.loss(emb, negatives), fewer.loss(emb, negatives)
    assert 'nce_cnn_q-trans_q' not in b
    for key in b:
        if key.startswith('nce_'):
            assert b[key].item() == pytest.approx(a[key].item(), abs=1e-7)
    assert (4 * a['loss_contrast'] - 3 * b['loss_contrast']).item() == \
        pytest.approx(a['nce_cnn_q-trans_q'].item(), abs=1e-5)


def test_three_d_only_moco_needs_no_transformer():
    head = make_head([('cnn_q', 'cnn_k')])
    assert head.queue_archs == (Arch.CNN, )
    assert head.needed == (CNN_Q, CNN_K)
    # A pair whose positive is online still fills that architecture's
    # queue from its momentum keys.
    assert make_head([('cnn_q', 'trans_q')]).needed == (CNN_Q, TRANS_Q,
                                                        TRANS_K)


def test_representation_names_parse_and_print():
    assert Representation.parse('trans_k') == TRANS_K
    assert TRANS_K.arch is Arch.TRANSFORMER and TRANS_K.momentum
    assert [str(r) for r in REPRESENTATIONS
            ] == ['cnn_q', 'cnn_k', 'trans_q', 'trans_k']
    assert parse_pairs([('cnn_q', 'trans_k')]) == [(CNN_Q, TRANS_K)]


@pytest.mark.parametrize('pairs,match', [
    ([('cnn_q', 'video_k')], 'unknown representation'),
    ([('cnn_k', 'trans_k')], 'no online side'),
    ([('cnn_q', 'cnn_q')], 'itself'),
    ([], 'empty'),
    ([('cnn_q', 'cnn_k'), ('cnn_q', 'cnn_k')], 'duplicates'),
    ([('cnn_q', )], 'not a pair'),
])
def test_bad_pairs_fail_at_build(pairs, match):
    with pytest.raises(ValueError, match=f'contrast_head.pairs.*{match}'):
        make_head(pairs)


def test_queue_wraps_around():
    queue = KeyQueue(length=5, dims=2)
    keys = torch.arange(12, dtype=torch.float32).view(6, 2)
    queue.enqueue(keys[:3], ids=torch.tensor([10, 11, 12]))
    assert queue.ids.tolist() == [10, 11, 12, -1, -1]
    assert int(queue.ptr) == 3
    torch.testing.assert_close(queue.keys[:3], keys[:3])
    queue.enqueue(keys[3:])
    # keys 3, 4 fill rows 3, 4; key 5 wraps to row 0.
    torch.testing.assert_close(queue.keys[3:], keys[3:5])
    torch.testing.assert_close(queue.keys[0], keys[5])
    torch.testing.assert_close(queue.keys[1:3], keys[1:3])
    assert queue.ids.tolist() == [-1, 11, 12, -1, -1]
    assert int(queue.ptr) == 1
    with pytest.raises(ValueError, match='queue.length=5'):
        queue.enqueue(torch.zeros(6, 2))
    initial = KeyQueue(length=4, dims=3).keys
    torch.testing.assert_close(initial.norm(dim=1), torch.ones(4))


def test_neck_checks_the_feature_size_and_normalises():
    neck = ProjectionNeck(in_channels=6, hidden_channels=8, out_channels=2)
    with pytest.raises(ValueError, match='neck.in_channels=6'):
        neck(torch.zeros(2, 5))
    out = neck(torch.randn(3, 6))
    torch.testing.assert_close(out.norm(dim=1), torch.ones(3))
    plain = ProjectionNeck(6, 8, 2, norm=False)
    assert not any(
        isinstance(m, torch.nn.BatchNorm1d) for m in plain.modules())


@pytest.mark.parametrize('input_mode', ['difference', 'concat'])
def test_shuffle_degree_head_loss_and_accuracy(input_mode):
    head = ShuffleDegreeHead(
        in_channels=4, num_classes=3, hidden_channels=5, input_mode=input_mode)
    feats = torch.randn(6, 4)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    out = head.loss(feats, labels)
    logits = head(feats)
    assert out['loss_sdp'].item() == pytest.approx(
        F.cross_entropy(logits, labels).item(), abs=1e-6)
    assert out['acc_sdp'].item() == pytest.approx(
        (logits.argmax(1) == labels).float().mean().item())
    with pytest.raises(ValueError, match='sdp_head.in_channels'):
        head(torch.zeros(2, 3))


def test_shuffle_degree_head_reads_the_change_between_twins():
    head = ShuffleDegreeHead(in_channels=4, num_classes=3, hidden_channels=5)
    original = torch.tensor([[1., 2.], [5., -3.]])
    # Different clips, identical change to their twins: identical logits.
    change = torch.tensor([[0.5, -1.], [0.5, -1.]])
    logits = head(torch.cat([original, original + change], dim=1))
    torch.testing.assert_close(logits[0], logits[1])
    linear = head.classifier[0]
    expected = torch.relu(linear(torch.tensor([[0.5, 1., 0.5, -1.]])))
    torch.testing.assert_close(
        head._hidden(torch.cat([original, original + change], dim=1))[:1],
        expected)
    for retired in ('both', 'alignment', 'sum'):
        with pytest.raises(ValueError, match='input_mode'):
            ShuffleDegreeHead(in_channels=4, num_classes=3, input_mode=retired)


def test_shuffle_degree_head_counts_dead_units():
    head = ShuffleDegreeHead(
        in_channels=2, num_classes=2, hidden_channels=2, input_mode='concat')
    with torch.no_grad():
        head.classifier[0].weight.copy_(torch.tensor([[1., 0.], [-1., 0.]]))
        head.classifier[0].bias.zero_()
    # Unit 2 (-x) never fires on positive x: half the units are dead.
    out = head.loss(torch.tensor([[1., 0.], [2., 1.]]), torch.tensor([0, 1]))
    assert out['dead_sdp'].item() == pytest.approx(0.5)


def test_arrow_of_time_head_hand_computed():
    head = ArrowOfTimeHead(temperature=0.5)
    forward = torch.tensor([[3., 0.], [0., 2.]])
    key = torch.tensor([[0.6, 0.8], [0., 5.]])
    backward = torch.tensor([[1., 0.], [0.8, 0.6]])
    out = head.loss(forward, backward, key)
    # Row 1: cosines 0.6 (key) and 1 (reversal); row 2: 1 and 0.6; / 0.5.
    row1 = -math.log(math.exp(1.2) / (math.exp(1.2) + math.exp(2.)))
    row2 = -math.log(math.exp(2.) / (math.exp(2.) + math.exp(1.2)))
    assert out['loss_arrow'].item() == pytest.approx((row1 + row2) / 2)
    assert out['acc_arrow'].item() == pytest.approx(0.5)
    head.loss_weight = 3.
    assert head.loss(forward, backward, key)['loss_arrow'].item() == \
        pytest.approx(3 * (row1 + row2) / 2)
    # A reversal that looks like its clip costs ln 2 even with a perfect key.
    blind = ArrowOfTimeHead().loss(forward, forward, forward)
    assert blind['loss_arrow'].item() == pytest.approx(math.log(2))
    with pytest.raises(ValueError, match='arrow_head.temperature'):
        ArrowOfTimeHead(temperature=0.)
