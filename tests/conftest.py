"""Shared fixtures (helpers without fixtures live in ``helpers.py``)."""
from __future__ import annotations
import os.path as osp

import pytest

import cacl_mm  # noqa: F401  (compat + registration, as custom_imports does)
from helpers import write_tiny_dataset


@pytest.fixture(scope='session')
def tiny_dataset(tmp_path_factory) -> dict:
    root = str(tmp_path_factory.mktemp('tiny_videos'))
    ann = write_tiny_dataset(root)
    return dict(
        root=root,
        ann_file=ann,
        video_root=osp.join(root, 'videos'),
        val_file=ann.replace('_train_', '_val_'))
