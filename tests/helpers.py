"""Test helpers: tiny real videos, the tiny model, and subprocess runs.

Imported by the tests (``from helpers import ...``); fixtures stay in
``conftest.py``.
"""
from __future__ import annotations
import os
import os.path as osp
import socket

import numpy as np

import cacl_mm  # noqa: F401  (compat + registration, as custom_imports does)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG_TINY = osp.join(REPO, 'configs', 'cacl', 'cacl_tiny_r3d_synthetic.py')

#: Compute threads of a test process: the cores shared among pytest-xdist's
#: workers (``make test`` runs two), so that no core runs two threads.
THREADS = max(1, (os.cpu_count() or 1) //
              int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1')))
os.environ.setdefault('OMP_NUM_THREADS', str(THREADS))


def write_video(path: str,
                num_frames: int,
                height: int = 48,
                width: int = 64,
                seed: int = 0,
                direction: int = 1) -> None:
    """Write an mp4 of a square moving across a noisy background."""
    import cv2
    rng = np.random.default_rng(seed)
    os.makedirs(osp.dirname(path), exist_ok=True)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 25,
                             (width, height))
    background = rng.integers(0, 120, (height, width, 3), dtype=np.uint8)
    colour = tuple(int(c) for c in rng.integers(120, 255, 3))
    for t in range(num_frames):
        frame = background.copy()
        x = (5 + direction * 2 * t) % (width - 12)
        frame[15:27, x:x + 12] = colour
        writer.write(frame)
    writer.release()


def write_tiny_dataset(root: str,
                       num_videos: int = 12,
                       num_val: int = 7,
                       num_frames: int = 24) -> str:
    """Videos under ``root/videos`` and mmaction train/val list files.

    Returns the train list ``tiny_train_split_1_videos.txt``; the val list
    (``num_val`` other videos, an odd count on purpose) sits beside it.
    """
    lines = []
    for i in range(num_videos + num_val):
        label = i % 2
        rel = f'class{label}/v_{i:03d}.mp4'
        write_video(
            osp.join(root, 'videos', rel),
            num_frames,
            seed=i,
            direction=1 if label == 0 else -1)
        lines.append(f'{rel} {label}')
    ann = osp.join(root, 'tiny_train_split_1_videos.txt')
    with open(ann, 'w') as f:
        f.write('\n'.join(lines[:num_videos]) + '\n')
    with open(osp.join(root, 'tiny_val_split_1_videos.txt'), 'w') as f:
        f.write('\n'.join(lines[num_videos:]) + '\n')
    return ann


def tiny_data_options(dataset: dict) -> dict:
    """Overrides that point the tiny config's data at a test dataset: the
    train list, and the train/val lists of the representation check (the
    train list again as queries when the dataset has no ``val_file``)."""
    options = {
        'train_dataloader.dataset.ann_file': dataset['ann_file'],
        'train_dataloader.dataset.data_prefix.video': dataset['video_root'],
    }
    for loader in ('val_dataloader', 'test_dataloader'):
        options.update({
            f'{loader}.dataset.gallery_ann_file':
            dataset['ann_file'],
            f'{loader}.dataset.query_ann_file':
            dataset.get('val_file', dataset['ann_file']),
            f'{loader}.dataset.data_prefix.video':
            dataset['video_root'],
            f'{loader}.num_workers':
            0,
        })
    return options


def tiny_cfg_options(dataset: dict, work_dir: str, **extra) -> list:
    """--cfg-options that point the tiny config at a test dataset."""
    options = {
        **tiny_data_options(dataset),
        'train_dataloader.batch_size': 4,
        'train_dataloader.num_workers': 0,
        'model.queue.length': 8,
        'default_hooks.logger.interval': 1,
    }
    options.update(extra)
    return ['--work-dir', work_dir, '--cfg-options'
            ] + [f'{k}={v}' for k, v in options.items()]


#: Environment of the real subprocess runs: test-only modules importable.
SUBPROCESS_ENV = dict(
    os.environ,
    PYTHONPATH=osp.join(REPO, 'tests'),
    OMP_NUM_THREADS='1',
    PYTHONWARNINGS='ignore')


def run(cmd, timeout: int = 600, check: bool = True, env=None):
    """Run a command in the repo; with ``check``, fail the test on a non-zero
    exit showing the end of its output. Returns the CompletedProcess."""
    import subprocess
    proc = subprocess.run(
        cmd,
        cwd=REPO,
        env=env or SUBPROCESS_ENV,
        capture_output=True,
        text=True,
        errors='replace',
        timeout=timeout)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc


def free_port() -> int:
    """A free TCP port on 127.0.0.1 for a test's process group."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


# ----------------------------------------------------------- the tiny model
CLIP_LEN = 8


def tiny_model_cfg():
    """The tiny config's model, a fresh copy."""
    import copy

    from mmengine.config import Config
    return copy.deepcopy(Config.fromfile(CONFIG_TINY).model)


def build(cfg=None):
    """The tiny CACL (or ``cfg``), seeded and initialised."""
    import torch

    from mmaction.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(cfg or tiny_model_cfg())
    model.init_weights()
    return model


def batch(n=4, seed=0):
    """(n, 2, 3, CLIP_LEN, 32, 32) random views and their data samples."""
    import torch

    from mmaction.structures import ActionDataSample
    rng = np.random.default_rng(seed)
    inputs = torch.randn(
        n,
        2,
        3,
        CLIP_LEN,
        32,
        32,
        generator=torch.Generator().manual_seed(seed))
    samples = []
    for index in range(n):
        sample = ActionDataSample()
        sample.set_field(rng.permutation(CLIP_LEN), 'shuffle_order')
        sample.set_field(int(rng.integers(0, CLIP_LEN)), 'med_label')
        sample.set_field(100 * seed + index, 'sample_idx')
        samples.append(sample)
    return inputs, samples


def capture_keys(model) -> dict:
    """{arch name: the latest keys its momentum neck gave}, kept current by
    forward hooks (the keys a step hands to the queues)."""
    keys = {}
    for arch, ema in model.momentum_encoders.items():
        ema.module.neck.register_forward_hook(
            lambda module, args, out, arch=arch: keys.__setitem__(
                arch,
                out.detach().clone()))
    return keys


def torchvision_names(state: dict) -> dict:
    """An MMAction2 ResNet state dict under torchvision's names, written
    out by hand (conv1.conv -> conv1, conv1.bn -> bn1, convK.bn -> bnK,
    downsample.conv/bn -> downsample.0/1)."""
    renamed = {}
    for key, value in state.items():
        parts = key.split('.')
        if parts[0] == 'conv1':  # the stem
            key = 'conv1.weight' if parts[1] == 'conv' else 'bn1.' + parts[-1]
        elif parts[2] == 'downsample':
            index = '0' if parts[3] == 'conv' else '1'
            key = '.'.join(parts[:3] + [index, parts[-1]])
        elif parts[3] == 'conv':  # layerX.Y.convK.conv.weight
            key = '.'.join(parts[:3] + ['weight'])
        else:  # layerX.Y.convK.bn.<stat>
            key = '.'.join(parts[:2] + ['bn' + parts[2][-1], parts[-1]])
        renamed[key] = value
    return renamed
