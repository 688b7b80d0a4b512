"""Shared fixtures (helpers without fixtures live in ``helpers.py``)."""
from __future__ import annotations
import os.path as osp

import pytest
import torch

import cacl_mm  # noqa: F401  (compat + registration, as custom_imports does)
from helpers import THREADS, write_tiny_dataset

torch.set_num_threads(THREADS)

#: Test files with the longest real runs, started first: under pytest-xdist
#: they then overlap the short tests instead of ending the suite alone.
LONGEST_FIRST = ('test_own_data.py', 'test_learning.py', 'test_paper_scale.py')


def pytest_collection_modifyitems(config, items) -> None:
    """Order the longest test files first (stable within a file)."""

    def rank(item) -> int:
        name = osp.basename(str(item.fspath))
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(
            LONGEST_FIRST)

    items.sort(key=rank)


@pytest.fixture(scope='session')
def tiny_dataset(tmp_path_factory) -> dict:
    root = str(tmp_path_factory.mktemp('tiny_videos'))
    ann = write_tiny_dataset(root)
    return dict(
        root=root,
        ann_file=ann,
        video_root=osp.join(root, 'videos'),
        val_file=ann.replace('_train_', '_val_'))
