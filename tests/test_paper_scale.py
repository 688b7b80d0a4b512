"""The paper configs at their real size, run as a GPU user runs them.

Every ``configs/cacl/{r3d,r21d,c3d}_{ucf101,hmdb51}.py`` trains through
``tools/train.py`` for two iterations at batch 2 on 320x240 XVID videos:
16x112x112 clips, the real 3D CNN, the real ResNet-50 frame encoder (from a
torchvision-layout file handed over by
``model.transformer.frame_encoder_checkpoint``) and the 6-layer Transformer,
on CPU. A test-only hook (``_paper_probe_hook``) reports what the run built:
the 3D CNN's conv5 shape (the released code's is 512 x 2 x 7 x 7 for all
three backbones) and the frame encoder's weights. The lists hold a video
shorter than a clip's span (16 frames at stride 2 span 31) and a broken
validation video, as real collections do.
"""
from __future__ import annotations
import json
import os
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config

from helpers import REPO, SUBPROCESS_ENV, run, torchvision_names

TRAIN = osp.join(REPO, 'tools', 'train.py')
PAPER_CONFIGS = [
    f'{arch}_{data}' for data in ('ucf101', 'hmdb51')
    for arch in ('r3d', 'r21d', 'c3d')
]
#: conv5 of one 16x112x112 clip in the released code, for R3D-18,
#: R(2+1)D-18 and C3D alike: (channels, time, height, width).
RELEASED_CONV5 = [512, 2, 7, 7]
#: Two compute threads, as the machine has (the helpers' default is one).
ENV = dict(SUBPROCESS_ENV, OMP_NUM_THREADS='2')


def moving_square(frames: int, seed: int) -> np.ndarray:
    """(T, 240, 320, 3) BGR frames: a square crossing a textured scene."""
    rng = np.random.default_rng(seed)
    scene = rng.integers(0, 160, (240, 320, 3), dtype=np.uint8)
    video = np.repeat(scene[None], frames, 0)
    for t in range(frames):
        x = 20 + 6 * t
        video[t, 90:150, x:x + 60] = (40, 200, 240)
    return video


@pytest.fixture(scope='module')
def paper_data(tmp_path_factory) -> dict:
    """UCF101-sized videos, lists and a torchvision ResNet-50 file."""
    from cacl_mm.datasets.motion_benchmark import write_video
    from mmaction.registry import MODELS
    root = tmp_path_factory.mktemp('paper')
    videos = root / 'videos'
    train = [f'A/v_{i}.avi {i % 2}' for i in range(4)]
    for i in range(4):
        write_video(str(videos / f'A/v_{i}.avi'), moving_square(40, i))
    # 20 frames: more than clip_len (16), fewer than its span (31)
    write_video(str(videos / 'A/short.avi'), moving_square(20, 9))
    (root / 'train.txt').write_text('\n'.join(train + ['A/short.avi 0']))
    for i in range(2):
        write_video(str(videos / f'B/q_{i}.avi'), moving_square(40, 10 + i))
    (videos / 'B' / 'broken.avi').write_bytes(
        np.random.default_rng(0).bytes(5000))
    (root / 'val.txt').write_text('B/q_0.avi 0\nB/q_1.avi 1\nB/broken.avi 1')
    torch.manual_seed(0)
    resnet50 = MODELS.build(dict(type='ResNet', depth=50))
    resnet50.init_weights()
    state = torchvision_names(resnet50.state_dict())
    state.update({
        'fc.weight': torch.zeros(1000, 2048),
        'fc.bias': torch.zeros(1000)
    })
    checkpoint = str(root / 'resnet50-torchvision.pth')
    torch.save(state, checkpoint)
    return dict(
        root=str(root),
        videos=str(videos),
        train=str(root / 'train.txt'),
        val=str(root / 'val.txt'),
        frame_encoder=checkpoint,
        conv1_sum=float(state['conv1.weight'].sum()))


def train_options(data: dict, frame_encoder: bool = True) -> list:
    options = {
        'train_dataloader.dataset.ann_file': data['train'],
        'train_dataloader.dataset.data_prefix.video': data['videos'],
        'train_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,
        'val_dataloader.dataset.gallery_ann_file': data['train'],
        'val_dataloader.dataset.query_ann_file': data['val'],
        'val_dataloader.dataset.data_prefix.video': data['videos'],
        'val_dataloader.num_workers': 0,
        'train_cfg.max_epochs': 1,
        # the check is built (its lists probed) but not run: 6 s a config
        'train_cfg.val_begin': 2,
        # no 1 GB checkpoint of two iterations
        'default_hooks.checkpoint.save_last': False,
        'randomness.seed': 0,
    }
    if frame_encoder:
        options['model.transformer.frame_encoder_checkpoint'] = data[
            'frame_encoder']
    return ['--cfg-options'] + [f'{k}={v}' for k, v in options.items()]


def probed_config(name: str, folder) -> str:
    """The paper config plus the probe hook (its own hooks kept)."""
    config = osp.join(REPO, 'configs', 'cacl', f'{name}.py')
    hooks = Config.fromfile(config).custom_hooks + [
        dict(type='PaperProbeHook')
    ]
    path = osp.join(str(folder), f'{name}_probed.py')
    with open(path, 'w') as f:
        f.write(f'_base_ = [{config!r}]\n'
                "custom_imports = dict(imports=['cacl_mm', "
                "'_paper_probe_hook'])\n"
                f'custom_hooks = {hooks!r}\n')
    return path


@pytest.mark.parametrize('name', PAPER_CONFIGS)
def test_paper_config_trains_at_its_real_size(name, paper_data, tmp_path):
    work = str(tmp_path / 'work')
    proc = run([
        sys.executable, TRAIN,
        probed_config(name, tmp_path), '--work-dir', work
    ] + train_options(paper_data),
               env=ENV)
    log = proc.stdout + proc.stderr
    with open(osp.join(work, 'paper_probe.json')) as f:
        probe = json.load(f)
    assert probe['iterations'] == 2
    # online clips and their shuffled twins, then the momentum encoder's
    shapes = probe['backbone_shapes']
    assert shapes[0] == [4] + RELEASED_CONV5, shapes
    assert all(shape[1:] == RELEASED_CONV5 for shape in shapes), shapes
    # the frozen ResNet-50 holds the torchvision file's weights
    assert probe['frame_encoder_conv1_sum'] == pytest.approx(
        paper_data['conv1_sum'], rel=1e-6)
    # batch 2 on one process: lr scaled by 2 / 64 from the paper's 0.01
    assert 'Scaling the original LR by 0.03125' in log
    with open(osp.join(work, 'skipped_videos.json')) as f:
        skipped = {
            osp.basename(v['path']): v
            for v in json.load(f)['videos']
        }
    # the short video never loops into a clip: it is skipped, named
    assert 'fewer than min_frames=31' in skipped['short.avi']['reason']
    assert skipped['short.avi']['times_drawn'] >= 1
    # the broken validation video is left out of the check, not fatal
    assert skipped['broken.avi']['left_out_of'] == \
        'representation check (query list)'
    assert os.listdir(work)  # and no checkpoint of a two-iteration run
    assert not any(f.endswith('.pth') for f in os.listdir(work))


def test_paper_config_without_frame_encoder_weights_stops_first(
        paper_data, tmp_path):
    """The bare paper command: no frame-encoder checkpoint, so no
    iteration runs and the error names the key to set."""
    config = osp.join(REPO, 'configs', 'cacl', 'r3d_ucf101.py')
    proc = run([
        sys.executable, TRAIN, config, '--work-dir',
        str(tmp_path / 'work')
    ] + train_options(paper_data, frame_encoder=False),
               env=ENV,
               check=False)
    assert proc.returncode != 0
    assert 'model.transformer.frame_encoder_checkpoint' in proc.stderr
    assert 'Epoch(train)' not in proc.stdout + proc.stderr
