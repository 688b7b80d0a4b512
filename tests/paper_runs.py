"""The paper configs' real-size training runs, made once per test session.

``test_paper_scale`` checks what each run built; ``test_downstream`` drops
each run's 3D backbone into MMAction2's recognition configs. Under
pytest-xdist every worker is its own process, so a session fixture would
train each config once per worker: :class:`PaperRuns` makes each run once,
in the folder the workers share, under a file lock (pytest-xdist's recipe
for a session fixture that must run once).

A run: ``configs/cacl/{r3d,r21d,c3d}_ucf101.py`` through ``tools/train.py``
for one iteration at batch 2 on 320x240 XVID videos (16x112x112 clips, the
real 3D CNN, the real ResNet-50 frame encoder from a torchvision-layout file
handed over by ``model.transformer.frame_encoder_checkpoint``, the 6-layer
Transformer), on CPU, with the test-only ``_paper_probe_hook``. The lists
hold a video shorter than a clip's span and a broken validation video.
"""
from __future__ import annotations
import json
import os.path as osp
import sys
from pathlib import Path

import numpy as np
import torch
from filelock import FileLock
from mmengine.config import Config

from helpers import REPO, SUBPROCESS_ENV, THREADS, run, torchvision_names

TRAIN = osp.join(REPO, 'tools', 'train.py')
#: A run's process gets this test process's share of the cores.
ENV = dict(SUBPROCESS_ENV, OMP_NUM_THREADS=str(THREADS))


def moving_square(frames: int, seed: int) -> np.ndarray:
    """(T, 240, 320, 3) BGR frames: a square crossing a textured scene."""
    rng = np.random.default_rng(seed)
    scene = rng.integers(0, 160, (240, 320, 3), dtype=np.uint8)
    video = np.repeat(scene[None], frames, 0)
    for t in range(frames):
        x = 20 + 6 * t
        video[t, 90:150, x:x + 60] = (40, 200, 240)
    return video


def write_paper_data(root: Path) -> dict:
    """UCF101-sized videos, lists and a torchvision ResNet-50 file."""
    from cacl_mm.datasets.motion_benchmark import write_video
    from mmaction.registry import MODELS
    videos = root / 'videos'
    # One batch of 2 (one iteration, the same code path as every later one)
    # that always draws the short video: 20 frames, more than clip_len (16),
    # fewer than its span (31).
    write_video(str(videos / 'A/v_0.avi'), moving_square(40, 0))
    write_video(str(videos / 'A/short.avi'), moving_square(20, 9))
    (root / 'train.txt').write_text('A/v_0.avi 0\nA/short.avi 0')
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
    """One iteration of a paper config on ``data``; the check is built
    (its lists probed) but not run; the last checkpoint without the
    optimizer state."""
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
        'train_cfg.val_begin': 2,
        'default_hooks.checkpoint.save_optimizer': False,
        'randomness.seed': 0,
    }
    if frame_encoder:
        options['model.transformer.frame_encoder_checkpoint'] = data[
            'frame_encoder']
    return ['--cfg-options'] + [f'{k}={v}' for k, v in options.items()]


def probed_config(name: str, folder: Path) -> str:
    """The paper config plus the probe hook (its own hooks kept)."""
    config = osp.join(REPO, 'configs', 'cacl', f'{name}.py')
    hooks = Config.fromfile(config).custom_hooks + [
        dict(type='PaperProbeHook')
    ]
    path = str(folder / f'{name}_probed.py')
    with open(path, 'w') as f:
        f.write(f'_base_ = [{config!r}]\n'
                "custom_imports = dict(imports=['cacl_mm', "
                "'_paper_probe_hook'])\n"
                f'custom_hooks = {hooks!r}\n')
    return path


class PaperRuns:
    """Each paper run (and the data they share) made once per session.

    Args:
        root (Path): A folder every pytest-xdist worker of this session
            sees.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def once(self, name: str, make) -> dict:
        """``make(folder)``'s result, made by the first process to ask."""
        done = self.root / f'{name}.json'
        with FileLock(str(self.root / f'{name}.lock')):
            if not done.exists():
                folder = self.root / name
                folder.mkdir(exist_ok=True)
                done.write_text(json.dumps(make(folder)))
        return json.loads(done.read_text())

    def data(self) -> dict:
        return self.once('data', write_paper_data)

    def run(self, name: str) -> dict:
        """``name``'s run: its work dir, console output and checkpoint."""
        data = self.data()

        def train(folder: Path) -> dict:
            work = str(folder / 'work')
            proc = run(
                [
                    sys.executable, TRAIN,
                    probed_config(name, folder), '--work-dir', work
                ] + train_options(data),
                env=ENV)
            with open(osp.join(work, 'last_checkpoint')) as f:
                checkpoint = f.read().strip()
            return dict(
                work=work,
                log=proc.stdout + proc.stderr,
                checkpoint=checkpoint)

        return self.once(name, train)
