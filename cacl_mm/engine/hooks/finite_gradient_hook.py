"""``FiniteGradientHook``: no optimizer step on a non-finite gradient."""
from __future__ import annotations
from typing import Dict, Mapping, Optional

import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmaction.registry import HOOKS
from ...utils.run_state import describe_run_state


def check_finite_gradients(
        optimizer: torch.optim.Optimizer,
        names: Dict[int, str],
        losses: Optional[Mapping[str, object]] = None) -> None:
    """Raise ``FloatingPointError`` if any gradient is inf or NaN.

    Args:
        optimizer: Whose parameters' gradients are checked.
        names: ``id(parameter) -> name`` for the message.
        losses: The step's loss terms, for the message.
    """
    params = [
        p for group in optimizer.param_groups for p in group['params']
        if p.grad is not None
    ]
    if not params:
        return
    # One fused reduction (torch >= 2.6, which the project requires).
    norm = torch.nn.utils.get_total_norm([p.grad.detach() for p in params])
    if bool(torch.isfinite(norm)):
        return
    bad = [
        names.get(id(p), f'tensor {tuple(p.shape)}') for p in params
        if not bool(torch.isfinite(p.grad).all())
    ]
    shown = ', '.join(bad[:5]) + (' ...' if len(bad) > 5 else '')
    raise FloatingPointError(
        f'non-finite gradient (norm {float(norm)}) in {len(bad)} parameters: '
        f'{shown}{describe_run_state(losses or {})}. Stopped before the '
        'optimizer step; '
        'lower the learning rate or set optim_wrapper.clip_grad='
        'dict(max_norm=...)')


def attach_finite_check(optimizer: torch.optim.Optimizer, model: nn.Module):
    """Check gradients before each ``optimizer.step()``; returns the handle."""
    names = {id(p): name for name, p in model.named_parameters()}
    return optimizer.register_step_pre_hook(
        lambda opt, args, kwargs: check_finite_gradients(
            opt, names, getattr(model, 'last_loss_terms', {})))


@HOOKS.register_module()
class FiniteGradientHook(Hook):
    """Stop the run before an optimizer step on an inf/NaN gradient.

    A loss can be finite while its gradient overflows; stepping would write
    inf/NaN into every weight, the momentum encoders and, through them, the
    queues, and the next checkpoint would hold it. The check is a step
    pre-hook on the torch optimizer, so it works with any mmengine optim
    wrapper and leaves ``mim train --amp`` alone: with ``AmpOptimWrapper``
    the ``GradScaler`` skips overflowing steps before the optimizer (and
    this check) sees them, as intended. It costs one norm reduction per
    step. The error names the iteration, the loss terms, the parameters and
    the last good checkpoint. Gradient clipping stays mmengine's
    ``optim_wrapper.clip_grad=dict(max_norm=...)``.
    """

    priority = 'VERY_LOW'

    def before_train(self, runner) -> None:
        """Attach the check to every optimizer of the run."""
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        wrappers = getattr(runner.optim_wrapper, 'optim_wrappers', None)
        for wrapper in (wrappers.values()
                        if wrappers else [runner.optim_wrapper]):
            attach_finite_check(wrapper.optimizer, model)
