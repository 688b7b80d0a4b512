"""Shared fixtures: tiny real videos written with OpenCV and read by decord."""
from __future__ import annotations

import os
import os.path as osp
import socket

import numpy as np
import pytest

import cacl_mm  # noqa: F401  (compat + registration, as custom_imports does)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG_TINY = osp.join(REPO, 'configs', 'cacl', 'cacl_tiny_r3d_synthetic.py')

os.environ.setdefault('OMP_NUM_THREADS', '2')


def write_video(path: str, num_frames: int, height: int = 48, width: int = 64,
                seed: int = 0, direction: int = 1) -> None:
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


def write_tiny_dataset(root: str, num_videos: int = 12, num_val: int = 7,
                       num_frames: int = 24) -> str:
    """Videos under ``root/videos`` and mmaction train/val list files.

    Returns the train list ``tiny_train_split_1_videos.txt``; the val list
    (``num_val`` other videos, an odd count on purpose) sits beside it.
    """
    lines = []
    for i in range(num_videos + num_val):
        label = i % 2
        rel = f'class{label}/v_{i:03d}.mp4'
        write_video(osp.join(root, 'videos', rel), num_frames, seed=i,
                    direction=1 if label == 0 else -1)
        lines.append(f'{rel} {label}')
    ann = osp.join(root, 'tiny_train_split_1_videos.txt')
    with open(ann, 'w') as f:
        f.write('\n'.join(lines[:num_videos]) + '\n')
    with open(osp.join(root, 'tiny_val_split_1_videos.txt'), 'w') as f:
        f.write('\n'.join(lines[num_videos:]) + '\n')
    return ann


@pytest.fixture(scope='session')
def tiny_dataset(tmp_path_factory) -> dict:
    root = str(tmp_path_factory.mktemp('tiny_videos'))
    ann = write_tiny_dataset(root)
    return dict(root=root, ann_file=ann, video_root=osp.join(root, 'videos'),
                val_file=ann.replace('_train_', '_val_'))


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
            f'{loader}.dataset.gallery_ann_file': dataset['ann_file'],
            f'{loader}.dataset.query_ann_file': dataset.get(
                'val_file', dataset['ann_file']),
            f'{loader}.dataset.data_prefix.video': dataset['video_root'],
            f'{loader}.num_workers': 0,
        })
    return options


def tiny_cfg_options(dataset: dict, work_dir: str, **extra) -> list:
    """--cfg-options that point the tiny config at a test dataset."""
    options = {
        **tiny_data_options(dataset),
        'train_dataloader.batch_size': 4,
        'train_dataloader.num_workers': 0,
        'model.contrast_head.queue_len': 8,
        'default_hooks.logger.interval': 1,
    }
    options.update(extra)
    return ['--work-dir', work_dir, '--cfg-options'] + [
        f'{k}={v}' for k, v in options.items()
    ]


#: Environment of the real subprocess runs: test-only modules importable.
SUBPROCESS_ENV = dict(os.environ, PYTHONPATH=osp.join(REPO, 'tests'),
                      OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')


def run(cmd, timeout: int = 600, check: bool = True, env=None):
    """Run a command in the repo; with ``check``, fail the test on a non-zero
    exit showing the end of its output. Returns the CompletedProcess."""
    import subprocess
    proc = subprocess.run(cmd, cwd=REPO, env=env or SUBPROCESS_ENV,
                          capture_output=True, text=True, errors='replace',
                          timeout=timeout)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc


def free_port() -> int:
    """A free TCP port on 127.0.0.1 for a test's process group."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]
