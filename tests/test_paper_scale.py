"""The paper configs at their real size, run as a GPU user runs them.

Every ``configs/cacl/{r3d,r21d,c3d}_ucf101.py`` trains through
``tools/train.py`` for one iteration at batch 2 on 320x240 XVID videos
(``paper_runs.py``: made once per session, shared with test_downstream).
A test-only hook (``_paper_probe_hook``) reports what the run built: the 3D
CNN's conv5 shape (the released code's is 512 x 2 x 7 x 7 for all three
backbones) and the frame encoder's weights. The lists hold a video shorter
than a clip's span (16 frames at stride 2 span 31) and a broken validation
video, as real collections do. Each ``*_hmdb51.py`` config is its UCF101
config on other lists (checked key by key), so its model and step are not
trained a second time.
"""
from __future__ import annotations
import json
import os
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config
from paper_runs import ENV, TRAIN, train_options

from helpers import REPO, run

ARCHS = ('r3d', 'r21d', 'c3d')
PAPER_CONFIGS = [
    f'{arch}_{data}' for data in ('ucf101', 'hmdb51') for arch in ARCHS
]
#: What an HMDB51 paper config may change of its UCF101 config: the lists,
#: the video folder, the class count, the queue (below HMDB51's 3570 train
#: videos) and the work dir.
HMDB51_CHANGES = {
    'data_root', 'ann_file_train', 'ann_file_val', 'work_dir',
    'model.queue.length', 'train_dataloader.dataset.ann_file',
    'train_dataloader.dataset.data_prefix.video',
    'train_dataloader.dataset.num_classes'
} | {
    f'{loader}_dataloader.dataset.{key}'
    for loader in ('val', 'test')
    for key in ('gallery_ann_file', 'query_ann_file', 'data_prefix.video')
}
#: conv5 of one 16x112x112 clip in the released code, for R3D-18,
#: R(2+1)D-18 and C3D alike: (channels, time, height, width).
RELEASED_CONV5 = [512, 2, 7, 7]
FRAME_CONV1 = 'transformer.frame_encoder.conv1.conv.weight'


def flat(cfg, prefix: str = '') -> dict:
    """A config as ``{'a.b.c': value}`` (lists of dicts by index)."""
    out = {}
    items = cfg.items() if isinstance(cfg, dict) else enumerate(cfg) \
        if isinstance(cfg, (list, tuple)) else None
    if items is None:
        return {prefix[:-1]: cfg}
    for key, value in items:
        if isinstance(value, (dict, list, tuple)) and value:
            out.update(flat(value, f'{prefix}{key}.'))
        else:
            out[f'{prefix}{key}'] = value
    return out


@pytest.mark.parametrize('arch', ARCHS)
def test_hmdb51_paper_config_is_its_ucf101_config_on_other_lists(arch):
    ucf = flat(
        Config.fromfile(
            osp.join(REPO, 'configs', 'cacl', f'{arch}_ucf101.py')).to_dict())
    hmdb = flat(
        Config.fromfile(
            osp.join(REPO, 'configs', 'cacl', f'{arch}_hmdb51.py')).to_dict())
    changed = {
        k
        for k in ucf.keys() | hmdb.keys() if ucf.get(k) != hmdb.get(k)
    }
    assert changed == HMDB51_CHANGES
    assert 'hmdb51' in hmdb['train_dataloader.dataset.ann_file']
    assert hmdb['train_dataloader.dataset.num_classes'] == 51
    # And the check sees a change of anything else.
    hmdb['model.backbone.depth'] = 34
    assert {k for k in hmdb if ucf.get(k) != hmdb.get(k)} > HMDB51_CHANGES


@pytest.mark.parametrize('name', [f'{arch}_ucf101' for arch in ARCHS])
def test_paper_config_trains_at_its_real_size(name, paper_runs):
    paper_data = paper_runs.data()
    result = paper_runs.run(name)
    work, log = result['work'], result['log']
    with open(osp.join(work, 'paper_probe.json')) as f:
        probe = json.load(f)
    assert probe['iterations'] == 1
    # online clips and their shuffled twins, then the momentum encoder's
    shapes = probe['backbone_shapes']
    assert shapes[0] == [4] + RELEASED_CONV5, shapes
    assert all(shape[1:] == RELEASED_CONV5 for shape in shapes), shapes
    # the frozen ResNet-50 holds the torchvision file's weights, in training
    # and, unchanged by it, in the checkpoint
    assert probe['frame_encoder_conv1_sum'] == pytest.approx(
        paper_data['conv1_sum'], rel=1e-6)
    state = torch.load(
        result['checkpoint'], map_location='cpu', mmap=True)['state_dict']
    assert float(state[FRAME_CONV1].sum()) == pytest.approx(
        paper_data['conv1_sum'], rel=1e-6)
    # batch 2 on one process: lr scaled by 2 / 64 from the paper's 0.01
    assert 'Scaling the original LR by 0.03125' in log
    with open(osp.join(work, 'skipped_videos.json')) as f:
        skipped = {osp.basename(v['path']): v for v in json.load(f)['videos']}
    # the short video never loops into a clip: it is skipped, named
    assert 'fewer than min_frames=31' in skipped['short.avi']['reason']
    assert skipped['short.avi']['times_drawn'] >= 1
    # the broken validation video is left out of the check, not fatal
    assert skipped['broken.avi']['left_out_of'] == \
        'representation check (query list)'


def test_paper_config_without_frame_encoder_weights_stops_first(
        paper_runs, tmp_path):
    """The bare paper command: no frame-encoder checkpoint, so no
    iteration runs and the error names the key to set."""
    config = osp.join(REPO, 'configs', 'cacl', 'r3d_ucf101.py')
    proc = run(
        [sys.executable, TRAIN, config, '--work-dir',
         str(tmp_path / 'work')] +
        train_options(paper_runs.data(), frame_encoder=False),
        env=ENV,
        check=False)
    assert proc.returncode != 0
    assert 'model.transformer.frame_encoder_checkpoint' in proc.stderr
    assert 'Epoch(train)' not in proc.stdout + proc.stderr


def resolved_work_dir(config: str) -> str:
    """The work dir mmaction2's tools/train.py picks without --work-dir."""
    cfg = Config.fromfile(config)
    return osp.normpath(
        cfg.get('work_dir') or osp.join('./work_dirs',
                                        osp.splitext(osp.basename(config))[0]))


def all_configs() -> list:
    import glob
    return sorted(
        path for path in glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
        if not osp.basename(path).startswith('_'))


def test_no_two_configs_share_a_work_dir(monkeypatch):
    """Pretraining, fine-tuning and linear configs of one name (and
    fine-tuning on another split) never write into one folder, where
    ``--resume`` would pick up the other run's ``last_checkpoint``."""
    folders = {}
    for config in all_configs():
        folders.setdefault(resolved_work_dir(config), []).append(config)
    shared = {k: v for k, v in folders.items() if len(v) > 1}
    assert not shared, shared
    finetune = osp.join(REPO, 'configs', 'finetune', 'r3d_ucf101.py')
    split1 = resolved_work_dir(finetune)
    monkeypatch.setenv('SPLIT', '2')
    assert resolved_work_dir(finetune) != split1
    assert resolved_work_dir(
        osp.join(REPO, 'configs', 'cacl',
                 'r3d_ucf101.py')) == osp.normpath('work_dirs/cacl_r3d_ucf101')


@pytest.mark.parametrize('name', PAPER_CONFIGS)
def test_paper_configs_reproduce_batch_64_and_feed_a_gpu(name):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'cacl', f'{name}.py'))
    # 8 GPUs x 8 is the paper's 64 at lr 0.01; any other total is scaled
    assert cfg.train_dataloader.batch_size * 8 == \
        cfg.auto_scale_lr.base_batch_size == 64
    assert cfg.auto_scale_lr.enable
    assert cfg.optim_wrapper.optimizer.lr == 0.01
    assert cfg.env_cfg.cudnn_benchmark
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        assert loader.pin_memory
        assert loader.persistent_workers is False  # exact --resume
    # the monitor leaves broken videos out; a test of a checkpoint raises
    assert cfg.val_cfg.type == 'MonitorValLoop'
    assert cfg.val_dataloader.dataset.leave_out_bad_videos
    assert not cfg.test_dataloader.dataset.leave_out_bad_videos
    sampler = cfg.train_dataloader.dataset.pipeline[1]
    span = (sampler.clip_len - 1) * sampler.frame_interval + 1
    assert cfg.train_dataloader.dataset.min_frames == span == 31
    assert cfg.val_dataloader.dataset.min_frames == span


def test_min_frames_below_the_clip_span_is_refused():
    """A config that lets SampleFrames loop frames under ShuffleByMED
    stops at build time, naming the key and the value it needs."""
    from mmengine.registry import init_default_scope

    from mmaction.registry import DATASETS
    init_default_scope('mmaction')
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'cacl', 'r3d_ucf101.py'))
    dataset = cfg.train_dataloader.dataset
    dataset.update(
        ann_file=osp.join(REPO, 'README.md'), min_frames=16, lazy_init=True)
    with pytest.raises(
            ValueError,
            match=r'min_frames=16 is below the 31 '
            r'frames.*Set the dataset\'s min_frames=31'):
        DATASETS.build(dataset)


def test_python_floor_is_torchs():
    """pyproject, the Makefile and the README state the Python that the
    pinned torch installs on."""
    import importlib.metadata
    import re
    torch_floor = importlib.metadata.metadata('torch')['Requires-Python']
    floor = re.search(r'>=\s*3\.(\d+)', torch_floor).group(1)
    pyproject = open(osp.join(REPO, 'pyproject.toml')).read()
    assert f'requires-python = ">=3.{floor}"' in pyproject
    assert f'python3 (3.{floor}+' in open(osp.join(REPO, 'Makefile')).read()
    assert f'`python3` (3.{floor}+' in open(osp.join(REPO, 'README.md')).read()


def test_gpu_first_run_measures_real_iterations(tiny_dataset, tmp_path):
    """tools/gpu_first_run.py trains a config's own data and model for a
    few iterations and reports what they cost (CPU here: fp32, no MFU)."""
    from helpers import tiny_data_options
    work = str(tmp_path / 'first')
    options = dict(
        tiny_data_options(tiny_dataset), **{
            'train_dataloader.batch_size': 4,
            'train_dataloader.num_workers': 1,
            'model.queue.length': 8
        })
    proc = run([
        sys.executable,
        osp.join(REPO, 'tools', 'gpu_first_run.py'),
        osp.join(REPO, 'configs', 'cacl', 'cacl_tiny_r3d_synthetic.py'),
        '--iters', '2', '--warmup', '1', '--work-dir', work, '--cfg-options'
    ] + [f'{k}={v}' for k, v in options.items()])
    with open(osp.join(work, 'first_run.json')) as f:
        result = json.load(f)
    assert result['precision'] == 'fp32' and result['device'] == 'cpu'
    assert result['timed_iterations'] == 2
    assert result['clips_per_step'] == 4
    assert result['steps_per_epoch'] == 3  # 12 videos, batch 4
    assert result['schedule_epochs'] == 40  # the config's own schedule
    assert result['flops_per_step'] > 1e9
    assert result['mfu'] is None  # no known peak on a CPU
    assert result['clips_per_second'] == pytest.approx(
        4 / (result['step_seconds'] + result['data_wait_seconds']))
    assert result['worker_startup_seconds'] > 0
    assert result['cpu_peak_rss_gib'] > 0.1
    assert 'clips/s' in proc.stdout and 'MFU -' in proc.stdout
    assert not any(f.endswith('.pth') for f in os.listdir(work))


def test_gpu_first_run_precisions_keep_the_configs_optimizer(tmp_path):
    """bf16 / fp16 swap the optimizer wrapper, nothing else of the
    config's optimisation; the run becomes a short iteration loop."""
    from cacl_mm.apis.first_run import first_run_cfg
    config = osp.join(REPO, 'configs', 'cacl', 'r3d_ucf101.py')
    original = Config.fromfile(config).optim_wrapper
    for precision, wrapper in (('bf16',
                                dict(type='AmpOptimWrapper',
                                     dtype='bfloat16')),
                               ('fp16',
                                dict(
                                    type='AmpOptimWrapper',
                                    dtype='float16',
                                    loss_scale='dynamic')),
                               ('fp32', dict(type='OptimWrapper'))):
        cfg = first_run_cfg(
            Config.fromfile(config), str(tmp_path), 3, 2, precision)
        assert cfg.optim_wrapper == dict(
            optimizer=original.optimizer,
            clip_grad=original.clip_grad,
            **wrapper)
        assert cfg.train_cfg == dict(
            type='IterBasedTrainLoop', max_iters=5, val_interval=6)
        assert cfg.val_cfg is None and cfg.param_scheduler is None
        assert cfg.custom_hooks[-1] == dict(type='FirstRunProbeHook', warmup=2)
    if not torch.cuda.is_available():
        proc = run([
            sys.executable,
            osp.join(REPO, 'tools', 'gpu_first_run.py'), config, '--precision',
            'bf16', '--work-dir',
            str(tmp_path)
        ],
                   check=False)
        assert proc.returncode == 2
        assert '--precision bf16 needs a GPU' in proc.stderr
