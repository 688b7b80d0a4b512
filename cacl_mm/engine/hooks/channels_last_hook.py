"""``ChannelsLastHook``: feed a recognizer's backbone channels-last clips."""
from __future__ import annotations
from typing import Any, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmaction.registry import HOOKS
from ...models.utils.encoders import to_memory_format


def channels_last_inputs(module: torch.nn.Module,
                         args: Tuple[Any, ...]) -> Tuple[Any, ...]:
    """A forward pre-hook: 5-D tensors (N, C, T, H, W) of ``args`` in
    ``torch.channels_last_3d`` layout, 4-D ones in ``torch.channels_last``;
    everything else as it is."""
    return tuple(
        to_memory_format(arg, True) if isinstance(arg, torch.Tensor) else arg
        for arg in args)


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Run the model's backbone on channels-last inputs, in every loop.

    On CPUs (oneDNN) and on GPUs (cuDNN) a 3D convolution is faster in
    ``channels_last_3d`` layout; a convolution whose input is channels-last
    gives a channels-last output, so the whole backbone runs in that layout.
    For the tiny fine-tune config a fine-tune step took 0.11 s contiguous
    and 0.08 s channels-last on one CPU thread (docs/benchmark.md). Any
    MMAction2 recognizer can use it, in any config::

        custom_hooks = [dict(type='ChannelsLastHook')]

    Only the backbone's inputs change: the parameters keep their layout
    (so ``MMDistributedDataParallel``'s gradient buckets, the optimizer's
    state and checkpoints are as without the hook), and autograd returns
    each parameter's gradient in the parameter's own layout. The results
    equal the contiguous run's up to floating-point rounding (the kernels
    sum in another order).

    Args:
        module (str): The model's attribute whose inputs are converted.
    """

    priority = 'VERY_LOW'

    def __init__(self, module: str = 'backbone') -> None:
        self.module = module
        self._handle = None

    def before_run(self, runner) -> None:
        # mmengine calls before_run in train(), val() and test(); the
        # pre-hook is registered once.
        if self._handle is not None:
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        target = getattr(model, self.module, None)
        if not isinstance(target, torch.nn.Module):
            raise KeyError(
                f'ChannelsLastHook: the model ({type(model).__name__}) '
                f'has no module {self.module!r}; set the hook\'s '
                '`module` to the attribute holding its 3D CNN')
        self._handle = target.register_forward_pre_hook(channels_last_inputs)

    def after_run(self, runner) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
