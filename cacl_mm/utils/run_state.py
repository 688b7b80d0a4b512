"""What a fault message says about the run: iteration, losses, last checkpoint.

mmengine keeps the run's state in the current :class:`MessageHub`; the
``CheckpointHook`` (and our ``AtomicCheckpointHook``) record ``last_ckpt``
there, and it is restored on ``--resume``.
"""
from __future__ import annotations
from typing import Mapping

from mmengine.logging import MessageHub


def describe_run_state(losses: Mapping[str, object]) -> str:
    """``at iteration N (loss terms ...); last good checkpoint: PATH``.

    Args:
        losses (Mapping): The last step's loss terms (the model's
            ``last_loss_terms``); tensors are read only now.
    """
    hub = MessageHub.get_current_instance()
    iteration = hub.get_info('iter')
    where = '' if iteration is None else f' at iteration {int(iteration) + 1}'
    terms = ', '.join(f'{k}={float(v):.4g}' for k, v in losses.items()
                      if 'loss' in k)
    if terms:
        where += f' ({terms})'
    checkpoint = hub.get_info('last_ckpt')
    if checkpoint:
        return (f'{where}; last good checkpoint: {checkpoint} (continue with '
                '--resume)')
    return f'{where}; no checkpoint was saved yet'
