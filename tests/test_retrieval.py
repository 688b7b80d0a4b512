import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from cacl_mm.evaluation import (VideoRetrievalMetric, recall_at_k,
                                topk_neighbours)
from helpers import CONFIG_TINY, REPO, free_port

RETRIEVAL = osp.join(REPO, 'tools', 'retrieval.py')


def test_recall_at_k_hand_built():
    gallery = torch.tensor([[1., 0.], [0.9, 0.1], [0., 1.], [-1., 0.],
                            [0.1, 0.9]])
    g_labels = torch.tensor([0, 1, 1, 2, 2])
    queries = torch.tensor([
        [1., 0.05],  # order 0 (l0), 1 (l1), 4, 2, 3
        [0., 1.],  # order 2 (l1), 4 (l2), 1, 0, 3
        [-1., 0.1]
    ])  # order 3 (l2), ...
    q_labels = torch.tensor([1, 2, 2])
    _, neighbours = topk_neighbours(queries, gallery, 5)
    assert neighbours[0, :2].tolist() == [0, 1]
    assert neighbours[1, :2].tolist() == [2, 4]
    metrics = recall_at_k(q_labels, g_labels, neighbours, ks=(1, 2, 5))
    # query 0: first hit at rank 2; query 1: rank 2; query 2: rank 1.
    assert metrics == {
        'R@1': pytest.approx(1 / 3),
        'R@2': pytest.approx(1.0),
        'R@5': pytest.approx(1.0)
    }


def test_chunking_does_not_change_the_result():
    torch.manual_seed(0)
    queries, gallery = torch.randn(37, 16), torch.randn(101, 16)
    full = topk_neighbours(queries, gallery, 10, chunk_size=1000)
    chunked = topk_neighbours(queries, gallery, 10, chunk_size=4)
    torch.testing.assert_close(full[0], chunked[0])
    assert torch.equal(full[1], chunked[1])


def test_metric_splits_gallery_and_queries(tmp_path):
    metric = VideoRetrievalMetric(
        gallery_size=3,
        topk=(1, 2),
        out_file=str(tmp_path / 'top.json'),
        save_topk=2)
    feats = [[1., 0.], [0., 1.], [-1., 0.], [0.9, 0.2], [-0.8, -0.1]]
    labels = [0, 1, 2, 0, 1]
    metric.process({}, [
        dict(feature=torch.tensor(f), gt_label=torch.tensor([l]))
        for f, l in zip(feats, labels)
    ])
    result = metric.compute_metrics(metric.results)
    assert result['num_gallery'] == 3 and result['num_queries'] == 2
    # query 0 -> gallery 0 (hit); query 1 -> gallery 2 (label 2, miss), then 1.
    assert result['R@1'] == pytest.approx(0.5)
    assert result['R@2'] == pytest.approx(1.0)
    rows = json.loads((tmp_path / 'top.json').read_text())
    assert rows[1]['neighbours'] == [2, 1]
    with pytest.raises(ValueError, match='0 of them queries'):
        metric.compute_metrics(metric.results[:3])


@pytest.mark.parametrize('processes', [1, 2])
def test_every_video_counted_once(tiny_dataset, tmp_path, processes):
    # 12 gallery and 7 query videos, batch 5: partial last batches and, with
    # two processes, sampler padding that must not become duplicates.
    work_dir = str(tmp_path / 'ret')
    args = [
        RETRIEVAL, CONFIG_TINY, 'none', '--work-dir', work_dir,
        '--gallery-list', tiny_dataset['ann_file'], '--video-root',
        tiny_dataset['video_root'], '--num-clips', '2', '--batch-size', '5',
        '--num-workers', '0', '--save-topk', '3'
    ]
    if processes == 1:
        cmd = [sys.executable] + args
    else:
        cmd = [
            sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node',
            '2', '--master_port',
            str(free_port())
        ] + args + ['--launcher', 'pytorch']
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')
    proc = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.load(open(osp.join(work_dir, 'retrieval.json')))['metrics']
    assert result['num_gallery'] == 12 and result['num_queries'] == 7
    rows = json.load(open(osp.join(work_dir, 'retrieval_topk.json')))
    assert [r['query'] for r in rows] == list(range(7))
    assert [r['label'] for r in rows] == [(12 + i) % 2 for i in range(7)]
    assert 0 <= result['R@1'] <= result['R@5'] <= 1


def test_crop_size_read_from_every_kind_of_training_views():
    from cacl_mm.apis.config_utils import crop_size_of

    def views(*transforms):
        return dict(pipeline=[dict(type='DecordInit'), *transforms])

    # MMAction2's own views: a square Resize, or a crop after it.
    assert crop_size_of(
        views(dict(type='Resize', scale=(48, 48), keep_ratio=False))) == 48
    assert crop_size_of(
        views(
            dict(type='Resize', scale=(-1, 60)),
            dict(type='CenterCrop', crop_size=40))) == 40
    # Batched views: the size DrawViewAugmentations draws them at, an int
    # or a square (w, h); a wrapper around it is looked into.
    assert crop_size_of(
        views(dict(type='DrawViewAugmentations', out_size=32))) == 32
    assert crop_size_of(
        dict(
            dataset=views(
                dict(type='DrawViewAugmentations', out_size=(24, 24))))) == 24
    # No square size anywhere: the default.
    assert crop_size_of(
        views(dict(type='DrawViewAugmentations', out_size=(32, 24)))) == 112
    assert crop_size_of(views(), default=64) == 64


def test_retrieval_config_follows_the_source_config(tiny_dataset, tmp_path):
    from mmengine.config import Config

    from cacl_mm.apis import build_retrieval_cfg
    base = osp.join(REPO, 'configs', 'retrieval', 'video_retrieval.py')
    cfg = Config.fromfile(CONFIG_TINY)
    cfg.randomness = dict(seed=5)
    cfg.train_dataloader.dataset.ann_file = tiny_dataset['ann_file']
    out = build_retrieval_cfg(base, cfg, str(tmp_path))
    assert out.randomness.seed == 5  # a random-init baseline depends on it
    dataset = out.test_dataloader.dataset
    assert dataset.type == 'RetrievalVideoDataset'
    assert dataset.gallery_ann_file == tiny_dataset['ann_file']
    assert dataset.query_ann_file == tiny_dataset['val_file']
    sampler = dataset.pipeline[1]
    assert (sampler.clip_len, sampler.frame_interval,
            sampler.num_clips) == (8, 2, 10)
    # The tiny config trains on 32 px crops: resize to 37, crop 32.
    assert dataset.pipeline[3].scale == (-1, 37)
    assert dataset.pipeline[4].crop_size == 32
    assert out.test_evaluator.get('gallery_size') is None  # from the roles
    assert out.test_evaluator.out_file is None
    assert out.model.backbone == cfg.model.backbone
    transformer = build_retrieval_cfg(
        base, cfg, str(tmp_path), model_key='transformer')
    assert transformer.model.backbone == cfg.model.transformer
    with pytest.raises(KeyError, match="no 'neck'"):
        build_retrieval_cfg(base, cfg, str(tmp_path), model_key='neck')
    # --cfg-options keys of the retrieval config override what was derived;
    # another gallery brings its own _val_ twin as queries.
    other = build_retrieval_cfg(
        base,
        cfg,
        str(tmp_path),
        options={
            'test_dataloader.dataset.pipeline.1.num_clips': 3,
            'test_dataloader.dataset.gallery_ann_file':
            'x/a_train_split_2.txt',
            'test_evaluator.save_topk': 5
        })
    assert other.test_dataloader.dataset.pipeline[1].num_clips == 3
    assert other.test_dataloader.dataset.query_ann_file == \
        'x/a_val_split_2.txt'
    assert other.test_evaluator.out_file == str(tmp_path /
                                                'retrieval_topk.json')


def test_linear_probe_and_prefix_detection_through_the_tool(
        tiny_dataset, tmp_path):
    """An exported backbone (no 'backbone.' prefix) needs no --prefix; the
    frozen-feature linear probe lands in retrieval.json."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmaction.registry import MODELS
    init_default_scope('mmaction')
    backbone = MODELS.build(Config.fromfile(CONFIG_TINY).model.backbone)
    exported = str(tmp_path / 'backbone.pth')
    torch.save(dict(state_dict=backbone.state_dict()), exported)
    work_dir = str(tmp_path / 'ret')
    proc = subprocess.run([
        sys.executable, RETRIEVAL, CONFIG_TINY, exported, '--work-dir',
        work_dir, '--gallery-list', tiny_dataset['ann_file'], '--video-root',
        tiny_dataset['video_root'], '--num-clips', '1', '--num-workers', '0',
        '--linear-probe'
    ],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          env=dict(
                              os.environ,
                              OMP_NUM_THREADS='1',
                              PYTHONWARNINGS='ignore'),
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'frozen-feature linear probe: test accuracy' in proc.stdout
    record = json.load(open(osp.join(work_dir, 'retrieval.json')))
    probe = record['linear_probe']
    assert probe['chance'] == pytest.approx(0.5)
    assert 0 <= probe['test_acc'] <= 1 and 0 <= probe['train_acc'] <= 1
    assert osp.isfile(osp.join(work_dir, 'retrieval_features.npz'))
    # class0/v_003.mp4 carries no UCF101 group: not scored, not guessed
    assert record['query_neighbours'] is None


def test_ucf101_groups_from_names():
    from cacl_mm.evaluation.retrieval import ucf101_groups
    assert ucf101_groups([
        'ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi',
        'v_Move_Left_g25_c07.mp4'
    ]) == [8, 25]
    assert ucf101_groups(['v_Move_g01_c01.avi', 'class0/v_003.mp4']) is None


def test_neighbour_sources_hand_built():
    """Six videos, classes A/B, groups 1-3; each one's nearest other video
    is set by hand (features are unit vectors at the given angles)."""
    from cacl_mm.evaluation.retrieval import neighbour_sources
    degrees = torch.tensor([0., 5., 60., 62., 110., 170.])
    features = torch.stack([degrees.deg2rad().cos(),
                            degrees.deg2rad().sin()], 1)
    labels = torch.tensor([0, 1, 0, 0, 1, 1])
    groups = torch.tensor([1, 1, 2, 2, 3, 1])
    # nearest: 0->1 (group 1, other class), 1->0 (same), 2->3 (class A,
    # group 2: same class same group), 3->2 (same), 4->3 (other class,
    # other group), 5->4 (class B, group 3 vs 1: same class other group)
    assert neighbour_sources(features, labels, groups) == pytest.approx({
        'same_class_same_group':
        2 / 6,
        'same_group_other_class':
        2 / 6,
        'same_class_other_group':
        1 / 6,
        'other_class_other_group':
        1 / 6,
    })


def test_query_neighbour_sources_reads_the_saved_features(tmp_path):
    import numpy as np

    from cacl_mm.apis.retrieval import query_neighbour_sources
    names = [
        'A/v_A_g01_c01.avi 0', 'B/v_B_g01_c01.avi 1', 'A/v_A_g02_c01.avi 0',
        'B/v_B_g02_c01.avi 1'
    ]
    query_list = tmp_path / 'test.txt'
    query_list.write_text('\r\n'.join(names) + '\r\n')
    features = tmp_path / 'features.npz'
    # each video's nearest is the other class of its own group
    np.savez(
        features,
        query_features=np.array([[1, 0], [1, .1], [0, 1], [.1, 1]],
                                dtype=np.float32),
        query_labels=np.array([0, 1, 0, 1]))
    sources = query_neighbour_sources(str(features), str(query_list))
    assert sources['same_group_other_class'] == 1.0
    np.savez(
        features,
        query_features=np.ones((4, 2), np.float32),
        query_labels=np.array([1, 0, 0, 1]))  # not the list's order
    assert query_neighbour_sources(str(features), str(query_list)) is None
    query_list.write_text(names[0] + '\n')  # one video has no neighbour
    np.savez(
        features,
        query_features=np.ones((1, 2), np.float32),
        query_labels=np.array([0]))
    assert query_neighbour_sources(str(features), str(query_list)) is None
