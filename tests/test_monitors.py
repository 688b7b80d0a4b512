"""The pretraining diagnostics: metrics of the representation check, the
retrieval dataset that feeds them, and the linear probes."""
import json
import math

import numpy as np
import pytest
import torch

from cacl_mm.datasets import RetrievalVideoDataset
from cacl_mm.evaluation import (EmbeddingSpreadMetric, ShuffleDegreeMetric,
                                VideoRetrievalMetric)
from cacl_mm.evaluation.probes import fit_classifier, fit_linear_probe


def sample(role, **fields):
    return dict(retrieval_role=role, **fields)


def test_retrieval_metric_reads_the_role_of_each_sample():
    metric = VideoRetrievalMetric(topk=(1, 2))
    # Gallery and queries interleaved: the roles, not the order, decide.
    rows = [('gallery', [1., 0.], 0), ('query', [0.9, 0.2], 0),
            ('gallery', [0., 1.], 1), ('query', [-0.8, -0.1], 1),
            ('gallery', [-1., 0.], 2)]
    metric.process({}, [
        sample(role, feature=torch.tensor(f), gt_label=torch.tensor([label]))
        for role, f, label in rows
    ])
    result = metric.compute_metrics(metric.results)
    assert result['num_gallery'] == 3 and result['num_queries'] == 2
    # query 1 -> gallery [-1, 0] (label 2, miss), then [0, 1] (label 1).
    assert result['R@1'] == pytest.approx(0.5)
    assert result['R@2'] == pytest.approx(1.0)
    with pytest.raises(ValueError, match='both a gallery and queries'):
        metric.compute_metrics([r for r in metric.results if r['is_query']])
    with pytest.raises(KeyError, match='retrieval_role'):
        metric.process(
            {}, [dict(feature=torch.zeros(2), gt_label=torch.tensor([0]))])


def test_embedding_spread_metric_hand_computed():
    metric = EmbeddingSpreadMetric()
    vectors = [[1., 0.], [0., 2.], [-3., 0.]]
    metric.process(
        {}, [sample('query', embedding=torch.tensor(v)) for v in vectors])
    # The gallery's samples do not count.
    metric.process({}, [sample('gallery', embedding=torch.tensor([1., 0.]))])
    result = metric.compute_metrics(metric.results)
    # cosines 0, -1, 0 -> -1/3; unit vectors (1,0), (0,1), (-1,0): per-dim
    # sample std of x = std(1, 0, -1) = 1, of y = std(0, 1, 0) = 0.577.
    assert result['mean_cosine'] == pytest.approx(-1 / 3)
    assert result['dim_std'] == pytest.approx((1 + math.sqrt(1 / 3)) / 2)
    collapsed = EmbeddingSpreadMetric(role=None)
    collapsed.process({}, [dict(embedding=torch.tensor([2., 1.]))] * 4)
    assert collapsed.compute_metrics(collapsed.results) == pytest.approx(
        dict(mean_cosine=1.0, dim_std=0.0))
    # A model without embeddings (edit distance alone) gives no metric.
    empty = EmbeddingSpreadMetric()
    empty.process({}, [sample('query', feature=torch.zeros(2))])
    assert empty.compute_metrics(empty.results) == {}


def test_shuffle_degree_metric_hand_computed(tmp_path):
    out = tmp_path / 'med.json'
    metric = ShuffleDegreeMetric(num_classes=4, out_file=str(out))
    pairs = [(0, 0), (1, 2), (2, 2), (3, 3), (3, 0)]
    metric.process({}, [
        sample('query', med_label=t, med_pred=torch.tensor(p))
        for t, p in pairs
    ])
    metric.process({}, [sample('gallery', med_label=1, med_pred=1)])
    result = metric.compute_metrics(metric.results)
    assert result == dict(accuracy=pytest.approx(3 / 5), chance=0.25)
    saved = json.loads(out.read_text())
    assert saved['matrix'][1] == [0, 0, 1, 0]
    assert saved['matrix'][3] == [1, 0, 0, 1]
    assert saved['num_clips'] == 5
    with pytest.raises(KeyError, match='med_label'):
        metric.process({}, [sample('query', med_pred=1)])
    no_head = ShuffleDegreeMetric(num_classes=4)
    no_head.process({}, [sample('query', med_label=1)])
    assert no_head.compute_metrics(no_head.results) == {}


def test_retrieval_dataset_tags_gallery_and_queries(tmp_path):
    (tmp_path / 'train.txt').write_text('a.avi 0\nb.avi 1\n')
    (tmp_path / 'test.txt').write_text('c.avi 1\n')
    dataset = RetrievalVideoDataset(
        gallery_ann_file=str(tmp_path / 'train.txt'),
        query_ann_file=str(tmp_path / 'test.txt'),
        data_prefix=dict(video=str(tmp_path)),
        pipeline=[])
    roles = [
        dataset.get_data_info(i)['retrieval_role']
        for i in range(len(dataset))
    ]
    assert roles == ['gallery', 'gallery', 'query']
    assert dataset.get_data_info(2)['label'] == 1
    assert dataset.bad_video_policy == 'raise'  # test mode by default
    (tmp_path / 'bad.txt').write_text('c.avi x\n')
    with pytest.raises(ValueError, match=r'bad.txt:1: label'):
        RetrievalVideoDataset(
            gallery_ann_file=str(tmp_path / 'train.txt'),
            query_ann_file=str(tmp_path / 'bad.txt'),
            pipeline=[])


def test_linear_probe_fits_separable_data_and_not_noise():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 300)
    centres = np.eye(3) * 4
    feats = centres[labels] + rng.normal(size=(300, 3))
    result = fit_linear_probe(feats[:200], labels[:200], feats[200:],
                              labels[200:])
    assert result['test_acc'] > 0.95 and result['chance'] == pytest.approx(
        1 / 3)
    noise = rng.normal(size=(300, 20))
    result = fit_linear_probe(noise[:200], labels[:200], noise[200:],
                              labels[200:])
    assert result['test_acc'] < 0.5


def test_fit_classifier_takes_adams_first_step_by_hand():
    """Zero weights, inputs e_0 (class 0) and e_1 (class 1): the softmax is
    uniform, so the mean gradient of the weights is
    0.5 * ([[-0.5, 0], [0.5, 0]] + [[0, 0.5], [0, -0.5]])
    = [[-0.25, 0.25], [0.25, -0.25]] and the bias's is zero. Adam's first
    step moves each weight by lr against the sign of its gradient and
    leaves the bias."""
    classifier = torch.nn.Linear(2, 2)
    torch.nn.init.zeros_(classifier.weight)
    torch.nn.init.zeros_(classifier.bias)
    inputs, labels = torch.eye(2), torch.tensor([0, 1])
    result = fit_classifier(
        classifier, (inputs, labels), (inputs, labels.flip(0)),
        epochs=1,
        lr=0.1,
        standardise=False)
    torch.testing.assert_close(classifier.weight.detach(),
                               torch.tensor([[0.1, -0.1], [-0.1, 0.1]]))
    torch.testing.assert_close(classifier.bias.detach(), torch.zeros(2))
    assert result == dict(train_acc=1.0, test_acc=0.0)
    with pytest.raises(ValueError, match='optimizer'):
        fit_classifier(
            classifier, (inputs, labels), (inputs, labels),
            epochs=1,
            lr=0.1,
            optimizer='sgd')


def test_fit_classifier_batches_in_a_seeded_order():
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(64, 3, generator=generator)
    labels = (inputs[:, 0] > 0).long()

    def fitted(seed):
        classifier = torch.nn.Linear(3, 2)
        with torch.no_grad():
            classifier.weight.zero_()
            classifier.bias.zero_()
        fit_classifier(
            classifier, (inputs, labels), (inputs, labels),
            epochs=3,
            lr=0.05,
            batch_size=16,
            seed=seed)
        return classifier.weight.detach().clone()

    torch.testing.assert_close(fitted(1), fitted(1))
    assert not torch.equal(fitted(1), fitted(2))


def test_a_metric_option_is_set_by_the_metric_type():
    from cacl_mm.apis.config_utils import set_metric_option
    evaluator = [
        dict(type='VideoRetrievalMetric'),
        dict(type='ShuffleDegreeMetric', num_classes=8)
    ]
    set_metric_option(evaluator, 'ShuffleDegreeMetric', 'out_file', 'm.json')
    assert evaluator[1] == dict(
        type='ShuffleDegreeMetric', num_classes=8, out_file='m.json')
    single = dict(type='AccMetric')
    with pytest.raises(KeyError, match=r"no ShuffleDegreeMetric.*AccMetric"):
        set_metric_option(single, 'ShuffleDegreeMetric', 'out_file', 'x')
