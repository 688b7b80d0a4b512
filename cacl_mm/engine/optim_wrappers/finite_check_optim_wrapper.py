"""``FiniteCheckOptimWrapper``: no optimizer step on a non-finite gradient."""
from __future__ import annotations

from typing import Dict, List, Tuple

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from mmaction.registry import OPTIM_WRAPPERS
from ...utils.run_state import describe_run_state


def total_grad_norm(grads: List[torch.Tensor]) -> torch.Tensor:
    """The 2-norm of all gradients together (one fused reduction)."""
    if hasattr(torch.nn.utils, 'get_total_norm'):  # torch >= 2.6
        return torch.nn.utils.get_total_norm(grads, 2.0)
    return torch.linalg.vector_norm(
        torch.stack([torch.linalg.vector_norm(g) for g in grads]))


@OPTIM_WRAPPERS.register_module()
class FiniteCheckOptimWrapper(OptimWrapper):
    """mmengine's ``OptimWrapper`` that refuses to step on inf/NaN gradients.

    A loss can be finite while its gradient overflows; stepping would write
    inf/NaN into every weight, the momentum encoders and, through them, the
    queues, and the next checkpoint would hold it. Before each step the
    total gradient norm (one reduction, also what ``clip_grad`` needs) is
    checked; a non-finite one raises ``FloatingPointError`` naming the
    iteration, the loss terms, the parameters at fault and the last good
    checkpoint. ``clip_grad=dict(max_norm=...)`` clips as in mmengine.
    Mixed precision keeps ``AmpOptimWrapper``, whose ``GradScaler`` skips
    overflowing steps by design.
    """

    _param_names: Dict[int, str] = {}

    def initialize_count_status(self, model: nn.Module, init_counts: int,
                                max_counts: int) -> None:
        """mmengine's count set-up; also remembers parameter names."""
        super().initialize_count_status(model, init_counts, max_counts)
        self._param_names = {id(p): name
                             for name, p in model.named_parameters()}

    def _params_with_grad(self) -> List[Tuple[int, torch.Tensor]]:
        return [(id(p), p) for group in self.optimizer.param_groups
                for p in group['params'] if p.grad is not None]

    def step(self, **kwargs) -> None:
        """Check the gradients, then clip (if configured) and step."""
        params = self._params_with_grad()
        if params:
            norm = total_grad_norm([p.grad.detach() for _, p in params])
            if not bool(torch.isfinite(norm)):
                bad = [self._param_names.get(key, f'tensor {tuple(p.shape)}')
                       for key, p in params
                       if not bool(torch.isfinite(p.grad).all())]
                shown = ', '.join(bad[:5]) + (' ...' if len(bad) > 5 else '')
                raise FloatingPointError(
                    f'non-finite gradient (norm {float(norm)}) in {len(bad)} '
                    f'parameters: {shown}{describe_run_state()}. Stopped '
                    'before the optimizer step; lower the learning rate or '
                    'set optim_wrapper.clip_grad=dict(max_norm=...)')
        super().step(**kwargs)
