import math

import pytest
import torch
import torch.nn.functional as F

from cacl_mm.models.heads import (PAPER_PAIRS, CrossArchContrastiveHead,
                                  ShuffleDegreeHead, info_nce)


def test_info_nce_hand_computed():
    anchor = torch.tensor([[1., 0.], [0., 1.]])
    positive = torch.tensor([[0.6, 0.8], [0., 1.]])
    negatives = torch.tensor([[0., 1.], [-1., 0.]])
    # Row 1 logits / 0.5: pos 1.2, negs 0 and -2. Row 2: pos 2, negs 2, 0.
    row1 = math.log(1 + math.exp(-1.2) + math.exp(-3.2))
    row2 = math.log(2 + math.exp(-2))
    loss = info_nce(anchor, positive, negatives, temperature=0.5)
    assert loss.item() == pytest.approx((row1 + row2) / 2, abs=1e-6)


def make_head(pairs=PAPER_PAIRS, queue_len=3):
    torch.manual_seed(0)
    return CrossArchContrastiveHead(
        in_channels=dict(cnn=6, trans=4), hidden_channels=8, out_channels=2,
        pairs=pairs, temperature=0.5, queue_len=queue_len)


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
    head = make_head()
    set_queues(head)
    emb = fixed_embeddings()
    losses = head.loss(emb)
    expected = {}
    for a, b in PAPER_PAIRS:
        queue = head.queue(b.split('_')[0])
        expected[f'nce_{a}-{b}'] = info_nce(emb[a], emb[b], queue, 0.5)
        assert losses[f'nce_{a}-{b}'].item() == pytest.approx(
            expected[f'nce_{a}-{b}'].item(), abs=1e-6)
    assert losses['loss_contrast'].item() == pytest.approx(
        sum(v.item() for v in expected.values()), abs=1e-5)
    # The (cnn_q, cnn_k) term by hand: row 1 logits pos 1.2, negs 0, -2, 0;
    # row 2: pos 2, negs 2, 0, -2.
    row1 = math.log(1 + math.exp(-1.2) + math.exp(-3.2) + math.exp(-1.2))
    row2 = math.log(2 + math.exp(-2) + math.exp(-4))
    assert losses['nce_cnn_q-cnn_k'].item() == pytest.approx(
        (row1 + row2) / 2, abs=1e-6)


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
    assert (a['loss_contrast'] - b['loss_contrast']).item() == pytest.approx(
        a['nce_cnn_q-trans_q'].item(), abs=1e-6)


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
    head.enqueue('cnn', keys[:3])
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


def test_shuffle_degree_head_loss_and_accuracy():
    head = ShuffleDegreeHead(in_channels=4, num_classes=3, hidden_channels=5)
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
