"""``MoCoQueueHook``: momentum-encoder updates and enqueues after each step."""
from __future__ import annotations
import math
from typing import Any, Optional

import torch
from mmengine import dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmaction.registry import HOOKS


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return model.module if is_model_wrapper(model) else model


def count_distinct_videos(dataset: Any) -> int:
    """Videos behind a dataset, looking through ``RepeatDataset`` wrappers
    (which show each video ``times`` times)."""
    while hasattr(dataset, 'times') and hasattr(dataset, 'dataset'):
        dataset = dataset.dataset
    return len(dataset)


def _all_gather_cat(tensor: torch.Tensor) -> torch.Tensor:
    """This tensor of every rank, concatenated in rank order."""
    return torch.cat(dist.all_gather(tensor.contiguous()), dim=0)


@HOOKS.register_module()
class MoCoQueueHook(Hook):
    """Update CACL's momentum encoders and queues after the optimizer step.

    After every training iteration: one EMA step of each momentum encoder
    (mmengine's ``ExponentialMovingAverage``) with the MoCo momentum of this
    step, then the keys of the step (gathered from all ranks, in rank order,
    so every rank writes the same queue) are enqueued. Running after the
    optimizer step is MoCo's order: its update at the start of step t+1 is
    this update at the end of step t.

    Args:
        momentum_schedule (str): ``'constant'`` (the model's ``momentum``) or
            ``'cosine'`` (from the model's momentum at the first iteration
            to ``end_momentum`` at the last, as in BYOL / mmpretrain).
        end_momentum (float): Final momentum of the cosine schedule.
    """

    # Before CheckpointHook (VERY_LOW): checkpoints hold the update.
    priority = 'NORMAL'

    def __init__(self,
                 momentum_schedule: str = 'constant',
                 end_momentum: float = 1.0) -> None:
        if momentum_schedule not in ('constant', 'cosine'):
            raise ValueError(
                'MoCoQueueHook.momentum_schedule must be '
                f"'constant' or 'cosine', got {momentum_schedule!r}")
        self.momentum_schedule = momentum_schedule
        self.end_momentum = end_momentum

    def momentum_at(self, base: float, iteration: int,
                    max_iters: int) -> float:
        """MoCo momentum for ``iteration`` (0-based) of ``max_iters``."""
        if self.momentum_schedule == 'constant' or max_iters <= 1:
            return base
        progress = min(iteration / (max_iters - 1), 1.0)
        return self.end_momentum - (self.end_momentum - base) * (
            math.cos(math.pi * progress) + 1) / 2

    def before_train(self, runner) -> None:
        """Check the queues against the batch and the dataset sizes."""
        loader = runner.train_dataloader
        _unwrap(runner.model).check_queue(
            keys_per_step=loader.batch_size * dist.get_world_size(),
            num_videos=count_distinct_videos(loader.dataset))

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Any = None,
                         outputs: Optional[dict] = None) -> None:
        """EMA step, then enqueue the keys gathered from all ranks."""
        model = _unwrap(runner.model)
        model.after_optimizer_step(
            self.momentum_at(model.momentum, runner.iter, runner.max_iters),
            gather=_all_gather_cat)
