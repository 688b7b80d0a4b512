"""Every figure tool writes a real PNG of the expected size, or fails clearly.

One real tiny CACL run (TensorBoard on) feeds the curves, the retrieval grid,
the embedding map and the edit-distance confusion matrix.
"""
import glob
import json
import os.path as osp
import sys

import cv2
import numpy as np
import pytest

from helpers import CONFIG_TINY, REPO, SUBPROCESS_ENV, run, tiny_cfg_options


def tool(name, *args, check=True, env=None):
    return run(
        [sys.executable,
         osp.join(REPO, 'tools', name), *map(str, args)],
        check=check,
        env=env)


def assert_png(path, width, height):
    """A decodable PNG of (width, height) with real content."""
    assert open(path, 'rb').read(8) == b'\x89PNG\r\n\x1a\n'
    image = cv2.imread(str(path))
    assert image is not None, path
    assert image.shape[:2] == (height, width)
    assert image.std() > 5, 'a blank image'


@pytest.fixture(scope='module')
def trained(tiny_dataset, tmp_path_factory):
    root = tmp_path_factory.mktemp('vis')
    work_dir = str(root / 'pretrain')
    # The representation check after each epoch, its confusion matrix saved.
    med_json = str(root / 'med_confusion.json')
    options = tiny_cfg_options(
        tiny_dataset, work_dir, **{
            'train_cfg.max_epochs': 2,
            'train_cfg.val_interval': 1,
            'val_evaluator.2.out_file': med_json
        })
    tool(
        'train.py',
        CONFIG_TINY,
        *options,
        env=dict(SUBPROCESS_ENV, TENSORBOARD='1'))
    checkpoint = osp.join(work_dir, 'epoch_2.pth')
    retrieval = str(root / 'retrieval')
    tool('retrieval.py', CONFIG_TINY, checkpoint, '--work-dir', retrieval,
         '--save-topk', 5, '--save-features', '--num-clips', 2,
         '--num-workers', 0, '--gallery-list', tiny_dataset['ann_file'],
         '--video-root', tiny_dataset['video_root'])
    return dict(
        root=root,
        work_dir=work_dir,
        checkpoint=checkpoint,
        retrieval=retrieval,
        med_json=med_json)


def test_tensorboard_option_writes_events_and_scalars(trained):
    vis = glob.glob(osp.join(trained['work_dir'], '*', 'vis_data'))
    assert glob.glob(osp.join(vis[0], 'events.out.tfevents.*'))
    assert osp.getsize(osp.join(vis[0], 'scalars.json')) > 0


def test_plot_curves_of_two_work_dirs(trained, tmp_path):
    from cacl_mm.visualization.curves import CURVE_KEYS, load_curves

    # Losses, the collapse monitor and the representation check are logged.
    curves = load_curves(trained['work_dir'])
    assert set(curves) == set(CURVE_KEYS)
    assert len(curves['retrieval/R@1'][0]) == 2  # one check per epoch
    out = tmp_path / 'curves.png'
    tool('plot_curves.py', trained['work_dir'], trained['work_dir'],
         '--labels', 'a', 'b', '--out', out, '--size', 900, 300)
    assert_png(out, 900, 2 * 300)  # 7 panels: two rows of up to 4


def test_curves_stitch_a_resumed_run_with_the_later_value(tmp_path):
    from cacl_mm.visualization.curves import load_curves
    for stamp, lines in (('20260101_000000', [(1, 2.0), (2, 1.5)]),
                         ('20260102_000000', [(2, 1.0), (3, 0.5)])):
        folder = tmp_path / stamp / 'vis_data'
        folder.mkdir(parents=True)
        (folder / 'scalars.json').write_text(''.join(
            json.dumps(dict(step=s, loss_sdp=v)) + '\n' for s, v in lines))
    steps, values = load_curves(str(tmp_path), ['loss_sdp'])['loss_sdp']
    assert steps.tolist() == [1, 2, 3]
    assert values.tolist() == [2.0, 1.0, 0.5]


def test_plot_curves_fails_clearly_without_logs(trained, tmp_path):
    empty = tmp_path / 'empty_work_dir'
    empty.mkdir()
    proc = tool(
        'plot_curves.py', empty, '--out', tmp_path / 'x.png', check=False)
    assert proc.returncode == 2
    assert f'{empty} has no <timestamp>/vis_data/scalars.json' in proc.stderr
    proc = tool(
        'plot_curves.py',
        trained['work_dir'],
        '--keys',
        'loss_xyz',
        '--out',
        tmp_path / 'x.png',
        check=False)
    assert proc.returncode == 2 and 'loss_xyz not logged' in proc.stderr
    assert not (tmp_path / 'x.png').exists()


def test_retrieval_grid(trained, tmp_path):
    out = tmp_path / 'grid.png'
    tool('visualize_retrieval.py', trained['retrieval'], '--out', out)
    # 4 rows of (18 label + 64 frames + 8 gap); 6 clips of 3 x 64 + 6 gaps.
    assert_png(out, 6 * 3 * 64 + 6 * 8, 4 * (18 + 64 + 8))
    image = cv2.imread(str(out))[..., ::-1]  # RGB
    # The query box is blue; hits are green, misses red: some box is drawn.
    blue = np.all(np.abs(image.astype(int) - (40, 90, 220)) < 40, axis=-1)
    assert blue.sum() > 4 * 64


def test_retrieval_grid_fails_clearly_without_topk(tmp_path):
    proc = tool('visualize_retrieval.py', tmp_path, check=False)
    assert proc.returncode == 2
    assert 'retrieval.json not found' in proc.stderr
    assert '--save-topk 5' in proc.stderr


def test_embedding_map_side_by_side(trained, tmp_path):
    rng = np.random.default_rng(0)
    random_npz = tmp_path / 'random.npz'
    np.savez(
        random_npz,
        query_features=rng.normal(size=(7, 64)),
        query_labels=np.arange(7) % 2)
    out = tmp_path / 'map.png'
    tool('embedding_map.py', f'random init={random_npz}',
         f'CACL={trained["retrieval"]}', '--out', out, '--size', 1000, 450)
    assert_png(out, 1000, 450)


def test_embedding_map_fails_clearly_without_features(tmp_path):
    proc = tool(
        'embedding_map.py',
        f'CACL={tmp_path}',
        '--out',
        tmp_path / 'map.png',
        check=False)
    assert proc.returncode == 2
    assert 'retrieval_features.npz not found' in proc.stderr


def test_med_confusion_of_a_checkpoint_through_tools_test(
        trained, tiny_dataset, tmp_path):
    """MMAction2's tools/test.py on the pretraining config: its
    ShuffleDegreeMetric writes the matrix, med_confusion.py draws it."""
    med_json = tmp_path / 'med.json'
    options = tiny_cfg_options(tiny_dataset, str(tmp_path / 'test'),
                               **{'test_evaluator.2.out_file': med_json})
    proc = tool('test.py', CONFIG_TINY, trained['checkpoint'], *options)
    assert 'sdp/accuracy' in proc.stdout + proc.stderr
    report = json.load(open(med_json))
    matrix = np.array(report['matrix'])
    assert matrix.shape == (8, 8) and matrix.sum() == 7  # the 7 queries
    assert report['accuracy'] == pytest.approx(np.trace(matrix) / 7)
    out = tmp_path / 'med.png'
    tool('med_confusion.py', med_json, '--out', out)
    assert_png(out, 720, 640)
    # tools/evaluate.py finds the metric by its type: the same matrix.
    by_name = tmp_path / 'med_by_name.json'
    test_options = [o for o in options if o.startswith(('test_', 'model.'))]
    tool('evaluate.py', CONFIG_TINY, trained['checkpoint'], '--work-dir',
         tmp_path / 'evaluate', '--med-confusion', by_name, '--cfg-options',
         *test_options)
    assert json.load(open(by_name))['matrix'] == report['matrix']


def test_med_confusion_from_the_metric_of_the_check(trained, tmp_path):
    out = tmp_path / 'med.png'
    tool('med_confusion.py', trained['med_json'], '--out', out)
    assert_png(out, 720, 640)
    matrix = np.array(json.load(open(trained['med_json']))['matrix'])
    assert matrix.shape == (8, 8) and matrix.sum() == 7  # the 7 queries
    proc = tool(
        'med_confusion.py', tmp_path / 'none.json', '--out', out, check=False)
    assert proc.returncode == 2 and 'none.json' in proc.stderr


def test_shuffle_degree_metric_counts_by_hand(tmp_path):
    from cacl_mm.evaluation import ShuffleDegreeMetric
    metric = ShuffleDegreeMetric(num_classes=3, out_file=str(tmp_path / 'm'))
    metric.process({}, [
        dict(med_label=label, med_pred=1, retrieval_role=role)
        for label, role in ((0, 'query'), (1, 'query'), (1, 'query'),
                            (2, 'gallery'))
    ])
    metrics = metric.compute_metrics(metric.results)
    assert metrics == dict(accuracy=pytest.approx(2 / 3), chance=1 / 3)
    assert json.load(open(tmp_path / 'm'))['matrix'] == [[0, 1, 0], [0, 2, 0],
                                                         [0, 0, 0]]
