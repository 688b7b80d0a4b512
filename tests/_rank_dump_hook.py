"""Test-only hook: each rank saves its queues and weights after training."""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmaction.registry import HOOKS


@HOOKS.register_module()
class RankStateDumpHook(Hook):

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        path = osp.join(self.out_dir, f'rank{get_rank()}_iter{runner.iter}.pt')
        torch.save(state, path)
