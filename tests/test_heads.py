import math

import pytest
import torch
import torch.nn.functional as F

from cacl_mm.models.heads import (PAPER_PAIRS, CrossArchContrastiveHead,
                                  ShuffleDegreeHead, info_nce)
from cacl_mm.models.heads.cross_arch_contrastive_head import \
    mean_pairwise_cosine


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
    loss = info_nce(anchor, positive, negatives, temperature=0.5,
                    batch_negatives=True)
    assert loss.item() == pytest.approx((row1 + row2) / 2, abs=1e-6)


def test_info_nce_masks_negatives_of_the_same_video():
    anchor = torch.tensor([[1., 0.], [0., 1.]])
    positive = torch.tensor([[0.6, 0.8], [0., 1.]])
    negatives = torch.tensor([[0., 1.], [-1., 0.]])
    # Queue key 0 is of video 7 (row 2's own video): row 2 loses that
    # negative (logit 2); video -1 is never masked.
    loss = info_nce(anchor, positive, negatives, temperature=0.5,
                    anchor_ids=torch.tensor([3, 7]),
                    negative_ids=torch.tensor([7, -1]))
    row1 = math.log(1 + math.exp(-1.2) + math.exp(-3.2))
    row2 = math.log(1 + math.exp(-2))
    assert loss.item() == pytest.approx((row1 + row2) / 2, abs=1e-6)
    # Two clips of one video in a batch are not each other's negatives.
    loss = info_nce(anchor, positive, negatives[:0], temperature=0.5,
                    batch_negatives=True, anchor_ids=torch.tensor([5, 5]),
                    negative_ids=torch.zeros(0, dtype=torch.long))
    assert loss.item() == pytest.approx(0.0, abs=1e-6)


def test_mean_pairwise_cosine():
    same = torch.tensor([[1., 0.], [2., 0.], [3., 0.]])
    assert mean_pairwise_cosine(same).item() == pytest.approx(1.0)
    spread = torch.tensor([[1., 0.], [0., 1.], [-1., 0.]])
    # pairs: 0, -1, 0 -> mean -1/3
    assert mean_pairwise_cosine(spread).item() == pytest.approx(-1 / 3)


def make_head(pairs=PAPER_PAIRS, queue_len=3, **kwargs):
    torch.manual_seed(0)
    return CrossArchContrastiveHead(
        in_channels=dict(cnn=6, trans=4), hidden_channels=8, out_channels=2,
        pairs=pairs, temperature=0.5, queue_len=queue_len, **kwargs)


def fixed_embeddings():
    vectors = {
        'cnn_q': [[1., 0.], [0., 1.]],
        'cnn_k': [[0.6, 0.8], [0., 1.]],
        'trans_q': [[0.8, 0.6], [1., 0.]],
        'trans_k': [[0., 1.], [-0.6, 0.8]],
    }
    return {k: torch.tensor(v) for k, v in vectors.items()}


def set_queues(head):
    head.queue('cnn').copy_(torch.tensor([[0., 1.], [-1., 0.], [0., -1.]]))
    head.queue('trans').copy_(torch.tensor([[1., 0.], [0., -1.], [-1., 0.]]))


def test_head_loss_is_the_sum_of_configured_pair_terms():
    head = make_head(batch_negatives=False)
    set_queues(head)
    emb = fixed_embeddings()
    losses = head.loss(emb)
    expected = {}
    for a, b in PAPER_PAIRS:
        queue = head.queue(b.split('_')[0])
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


def test_head_defaults_use_batch_negatives_pair_weights_and_video_ids():
    head = make_head(pair_weights=[1., 0.5, 0.5, 0.5])
    set_queues(head)
    head.queue_ids('cnn').copy_(torch.tensor([4, -1, -1]))
    emb = fixed_embeddings()
    ids = torch.tensor([4, 9])
    losses = head.loss(emb, sample_ids=ids)
    expected = info_nce(emb['cnn_q'], emb['cnn_k'], head.queue('cnn'), 0.5,
                        batch_negatives=True, anchor_ids=ids,
                        negative_ids=head.queue_ids('cnn'))
    assert losses['nce_cnn_q-cnn_k'].item() == pytest.approx(
        expected.item(), abs=1e-6)
    terms = [losses[f'nce_{a}-{b}'].item() for a, b in PAPER_PAIRS]
    assert losses['loss_contrast'].item() == pytest.approx(
        (terms[0] + 0.5 * sum(terms[1:])) / 2.5, abs=1e-5)
    with pytest.raises(ValueError, match='pair_weights'):
        make_head(pair_weights=[1.])


def test_removing_a_pair_removes_exactly_its_term():
    full = make_head()
    fewer = make_head([p for p in PAPER_PAIRS if p != ('cnn_q', 'trans_q')])
    set_queues(full)
    set_queues(fewer)
    emb = fixed_embeddings()
    a, b = full.loss(emb), fewer.loss(emb)
    assert 'nce_cnn_q-trans_q' not in b
    for key in b:
        if key.startswith('nce_'):
            assert b[key].item() == pytest.approx(a[key].item(), abs=1e-7)
    assert (4 * a['loss_contrast'] - 3 * b['loss_contrast']).item() == \
        pytest.approx(a['nce_cnn_q-trans_q'].item(), abs=1e-5)


def test_three_d_only_moco_has_no_transformer_parts():
    head = make_head([('cnn_q', 'cnn_k')])
    assert head.archs == ('cnn', )
    assert head.queue_archs == ('cnn', )
    assert head.needed == ('cnn_q', 'cnn_k')
    assert not hasattr(head, 'queue_trans')


@pytest.mark.parametrize('pairs,match', [
    ([('cnn_q', 'video_k')], 'unknown pair'),
    ([('cnn_k', 'trans_k')], 'no online side'),
    ([('cnn_q', 'cnn_q')], 'itself'),
    ([], 'empty'),
    ([('cnn_q', 'cnn_k'), ('cnn_q', 'cnn_k')], 'duplicates'),
])
def test_bad_pairs_fail_at_build(pairs, match):
    with pytest.raises(ValueError, match=match):
        make_head(pairs)


def test_missing_in_channels_names_the_key():
    with pytest.raises(KeyError, match='in_channels'):
        CrossArchContrastiveHead(in_channels=dict(cnn=4))


def test_queue_wraps_around():
    head = make_head(queue_len=5)
    keys = torch.arange(12, dtype=torch.float32).view(6, 2)
    head.enqueue('cnn', keys[:3], ids=torch.tensor([10, 11, 12]))
    assert head.queue_ids('cnn').tolist() == [10, 11, 12, -1, -1]
    assert int(head.queue_ptr_cnn) == 3
    torch.testing.assert_close(head.queue('cnn')[:3], keys[:3])
    head.enqueue('cnn', keys[3:])
    # keys 3, 4 fill rows 3, 4; key 5 wraps to row 0.
    torch.testing.assert_close(head.queue('cnn')[3:], keys[3:5])
    torch.testing.assert_close(head.queue('cnn')[0], keys[5])
    torch.testing.assert_close(head.queue('cnn')[1:3], keys[1:3])
    assert int(head.queue_ptr_cnn) == 1
    with pytest.raises(ValueError, match='queue_len=5'):
        head.enqueue('cnn', torch.zeros(6, 2))


def test_embed_checks_the_feature_size():
    head = make_head()
    with pytest.raises(ValueError, match='in_channels'):
        head.embed(head.projections['cnn'], torch.zeros(2, 5))
    out = head.embed(head.projections['cnn'], torch.randn(3, 6))
    torch.testing.assert_close(out.norm(dim=1), torch.ones(3))


@pytest.mark.parametrize('input_mode', ['difference', 'concat', 'both'])
def test_shuffle_degree_head_loss_and_accuracy(input_mode):
    head = ShuffleDegreeHead(in_channels=4, num_classes=3, hidden_channels=5,
                             input_mode=input_mode)
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
    torch.testing.assert_close(head._hidden(torch.cat(
        [original, original + change], dim=1))[:1], expected)
    # 'both' also reads the original clip: [orig, |change|, change].
    both = ShuffleDegreeHead(in_channels=4, num_classes=3, hidden_channels=5,
                             input_mode='both')
    assert both.classifier[0].in_features == 6
    expected = torch.relu(both.classifier[0](
        torch.tensor([[1., 2., 0.5, 1., 0.5, -1.]])))
    torch.testing.assert_close(both._hidden(torch.cat(
        [original, original + change], dim=1))[:1], expected)
    with pytest.raises(ValueError, match='input_mode'):
        ShuffleDegreeHead(in_channels=4, num_classes=3, input_mode='sum')


def test_shuffle_degree_head_counts_dead_units():
    head = ShuffleDegreeHead(in_channels=2, num_classes=2, hidden_channels=2,
                             input_mode='concat')
    with torch.no_grad():
        head.classifier[0].weight.copy_(torch.tensor([[1., 0.], [-1., 0.]]))
        head.classifier[0].bias.zero_()
    # Unit 2 (-x) never fires on positive x: half the units are dead.
    out = head.loss(torch.tensor([[1., 0.], [2., 1.]]), torch.tensor([0, 1]))
    assert out['dead_sdp'].item() == pytest.approx(0.5)
