"""``AtomicCheckpointHook``: a ``CheckpointHook`` that never tears a file."""
from __future__ import annotations
import warnings

from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook

from mmaction.registry import HOOKS
from ...compat import checkpoint_save_is_known, save_checkpoint_atomically


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose saves survive a kill at any moment.

    mmengine 0.10.7 writes ``epoch_N.pth`` in place, writes the
    ``last_checkpoint`` pointer in place, and deletes the oldest kept
    checkpoint *before* saving the new one; a kill in between can leave a
    torn checkpoint, an empty pointer (``--resume`` then silently starts
    from scratch) or, with ``max_keep_ckpts=1``, a pointer to a deleted
    file. Here, on a local work dir:

    1. the checkpoint is written as ``epoch_N.pth.tmp``, flushed, renamed;
    2. ``last_checkpoint`` is replaced atomically, only after step 1;
    3. outdated checkpoints are deleted only after step 2.

    A kill before step 1 completes leaves only a ``.tmp`` file that
    ``--resume`` never reads. Remote backends keep mmengine's behaviour, and
    so does an mmengine whose save differs from the one this replaces
    (``cacl_mm.compat``, workaround 8), with a warning. Same arguments as
    ``CheckpointHook``.
    """

    def _save_checkpoint_with_step(self, runner, step: int,
                                   meta: dict) -> None:
        if not isinstance(self.file_backend, LocalBackend):
            return super()._save_checkpoint_with_step(runner, step, meta)
        if not checkpoint_save_is_known():
            warnings.warn('AtomicCheckpointHook: this mmengine saves '
                          'checkpoints differently from 0.10.7; using its '
                          'own (non-atomic) save')
            return super()._save_checkpoint_with_step(runner, step, meta)
        save_checkpoint_atomically(self, runner, step, meta)
