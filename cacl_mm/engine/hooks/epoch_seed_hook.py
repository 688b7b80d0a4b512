"""``EpochSeedHook``: random state that depends only on (seed, epoch, rank)."""
from __future__ import annotations
import random
from functools import partial

import numpy as np
import torch
from mmengine.dataset import worker_init_fn
from mmengine.dist import get_rank
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log

from mmaction.registry import HOOKS


def epoch_seed(seed: int, epoch: int, rank: int = 0) -> int:
    """A 31-bit seed mixed from (seed, epoch, rank) by numpy's SeedSequence."""
    return int(
        np.random.SeedSequence([seed, epoch, rank]).generate_state(1)[0]
        & 0x7FFFFFFF)


def reset_transform_state(pipeline) -> int:
    """Call ``reset_state()`` on every transform of ``pipeline`` that has one.

    Returns:
        int: How many transforms were reset.
    """
    count = 0
    stack = list(getattr(pipeline, 'transforms', []))
    while stack:
        transform = stack.pop()
        if callable(getattr(transform, 'reset_state', None)):
            transform.reset_state()
            count += 1
        inner = getattr(transform, 'transforms', None)
        stack.extend(getattr(inner, 'transforms', inner) or [])
    return count


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Reseed every random source at the start of each training epoch.

    mmengine seeds once per run, and its dataloader workers get the same seed
    every epoch; neither the main process's random state nor the workers'
    is in a checkpoint. So after ``--resume`` the augmentations, the
    shuffle-BN permutations and any dropout differ from an uninterrupted
    run. With this hook everything random in an epoch is a function of
    (``randomness.seed``, epoch, rank, worker id):

    * ``random``, numpy and torch in the main process are seeded from
      (seed, epoch, rank);
    * the train dataloader's workers are seeded by mmengine's own
      ``worker_init_fn`` with a seed that also depends on the epoch (set
      before the epoch creates its workers, so it needs
      ``persistent_workers=False``);
    * transforms with buffered random state (``ShuffleByMED``) are reset.

    Resuming from an end-of-epoch checkpoint then reproduces the
    uninterrupted run; ``tests/test_reliability.py`` compares the weights
    and queues of both.
    """

    priority = 'ABOVE_NORMAL'  # before DistSamplerSeedHook's NORMAL

    def before_train(self, runner) -> None:
        """Say when the config cannot be reproduced exactly on resume."""
        loader = runner.train_dataloader
        if loader.num_workers > 0 and loader.persistent_workers:
            print_log(
                'EpochSeedHook: train_dataloader.persistent_workers=True '
                'keeps the workers (and their random state) across epochs, so '
                'a resumed run draws different augmentations; set it to False '
                'for exact resume',
                logger='current',
                level=30)
        checkpoint = next(
            (h for h in runner.hooks if isinstance(h, CheckpointHook)), None)
        if checkpoint is not None and not checkpoint.by_epoch and hasattr(
                runner.train_loop, 'max_epochs'):
            print_log(
                'EpochSeedHook: default_hooks.checkpoint.by_epoch=False with '
                'an epoch-based loop: resuming from a mid-epoch checkpoint '
                'restarts that epoch\'s data; use by_epoch=True for exact '
                'resume',
                logger='current',
                level=30)

    def before_train_epoch(self, runner) -> None:
        """Seed the main process, the next workers and buffered transforms."""
        seed = runner.seed if runner.seed is not None else 0
        rank = get_rank()
        main_seed = epoch_seed(seed, runner.epoch, rank)
        random.seed(main_seed)
        np.random.seed(main_seed)
        torch.manual_seed(main_seed)  # also seeds every CUDA device
        loader = runner.train_dataloader
        if loader.num_workers > 0 and not loader.persistent_workers:
            loader.worker_init_fn = partial(
                worker_init_fn,
                num_workers=loader.num_workers,
                rank=rank,
                seed=epoch_seed(seed, runner.epoch))
        reset_transform_state(getattr(loader.dataset, 'pipeline', None))
