"""Shared fixtures (helpers without fixtures live in ``helpers.py``)."""
from __future__ import annotations
import os.path as osp

import pytest
import torch
from paper_runs import PaperRuns

import cacl_mm  # noqa: F401  (compat + registration, as custom_imports does)
from helpers import THREADS, write_tiny_dataset

torch.set_num_threads(THREADS)

#: Test files with the longest real runs, longest first: ``make test`` hands
#: whole files to its pytest-xdist workers in this order (``--dist loadfile``,
#: so a module's fixtures run once), and the short files then fill the gaps
#: instead of one long file ending the suite alone. test_downstream reuses
#: test_paper_scale's runs (``paper_runs``), so it comes after it.
LONGEST_FIRST = ('test_paper_scale.py', 'test_reliability.py',
                 'test_own_data.py', 'test_learning.py', 'test_downstream.py',
                 'test_visualization.py', 'test_end_to_end.py')


def pytest_collection_modifyitems(config, items) -> None:
    """Order the longest test files first (stable within a file)."""

    def rank(item) -> int:
        name = osp.basename(str(item.fspath))
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(
            LONGEST_FIRST)

    items.sort(key=rank)


@pytest.fixture(scope='session')
def paper_runs(tmp_path_factory, worker_id) -> PaperRuns:
    """The paper configs' real-size runs, made once per session: in the
    folder all pytest-xdist workers share (``paper_runs.py``)."""
    base = tmp_path_factory.getbasetemp()
    return PaperRuns(
        (base if worker_id == 'master' else base.parent) / 'paper_runs')


@pytest.fixture(scope='session')
def tiny_dataset(tmp_path_factory) -> dict:
    root = str(tmp_path_factory.mktemp('tiny_videos'))
    ann = write_tiny_dataset(root)
    return dict(
        root=root,
        ann_file=ann,
        video_root=osp.join(root, 'videos'),
        val_file=ann.replace('_train_', '_val_'))
