"""What a fault message says about the run: iteration, losses, last checkpoint.

mmengine keeps the run's state in the current :class:`MessageHub`; the
``CheckpointHook`` (and our ``AtomicCheckpointHook``) record ``last_ckpt``
there, and it is restored on ``--resume``.
"""
from __future__ import annotations

from typing import Dict

from mmengine.logging import MessageHub

# This process's last loss terms. Not in the MessageHub: its checkpointed
# state would carry a key that a resumed run warns about.
_last_losses: Dict[str, float] = {}


def record_losses(log_vars: Dict[str, float]) -> None:
    """Keep this step's loss terms for a later fault message."""
    _last_losses.clear()
    _last_losses.update(log_vars)


def describe_run_state() -> str:
    """``at iteration N (loss terms ...); last good checkpoint: PATH``."""
    hub = MessageHub.get_current_instance()
    iteration = hub.get_info('iter')
    where = '' if iteration is None else f' at iteration {int(iteration) + 1}'
    losses = _last_losses
    terms = ', '.join(f'{k}={v:.4g}' for k, v in losses.items()
                      if 'loss' in k and isinstance(v, float))
    if terms:
        where += f' ({terms})'
    checkpoint = hub.get_info('last_ckpt')
    if checkpoint:
        return (f'{where}; last good checkpoint: {checkpoint} (continue with '
                '--resume)')
    return f'{where}; no checkpoint was saved yet'
