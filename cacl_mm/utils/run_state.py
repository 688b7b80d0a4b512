"""What a fault message says about the run: iteration, losses, last checkpoint.

mmengine keeps the run's state in the current :class:`MessageHub`; the
``CheckpointHook`` (and our ``AtomicCheckpointHook``) record ``last_ckpt``
there, and it is restored on ``--resume``.
"""
from __future__ import annotations

from typing import Dict

import torch
from mmengine.logging import MessageHub

# This process's last loss terms. Not in the MessageHub: its checkpointed
# state would carry a key that a resumed run warns about.
_last_losses: Dict[str, object] = {}


def record_losses(log_vars: Dict[str, object]) -> None:
    """Keep this step's loss terms for a later fault message.

    Tensors are kept detached and read only when a message is written, so
    a GPU run does not synchronise for them every step.
    """
    _last_losses.clear()
    _last_losses.update({k: v.detach() if isinstance(v, torch.Tensor) else v
                         for k, v in log_vars.items()})


def describe_run_state() -> str:
    """``at iteration N (loss terms ...); last good checkpoint: PATH``."""
    hub = MessageHub.get_current_instance()
    iteration = hub.get_info('iter')
    where = '' if iteration is None else f' at iteration {int(iteration) + 1}'
    losses = _last_losses
    terms = ', '.join(f'{k}={float(v):.4g}' for k, v in losses.items()
                      if 'loss' in k)
    if terms:
        where += f' ({terms})'
    checkpoint = hub.get_info('last_ckpt')
    if checkpoint:
        return (f'{where}; last good checkpoint: {checkpoint} (continue with '
                '--resume)')
    return f'{where}; no checkpoint was saved yet'
