"""``AtomicCheckpointHook``: mmengine's ``CheckpointHook`` that never tears a file."""
from __future__ import annotations

import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook

from mmaction.registry import HOOKS
from ...utils.atomic import publish, write_text_atomic


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
    ``--resume`` never reads. Remote backends keep mmengine's behaviour.
    Same arguments as ``CheckpointHook``.
    """

    def _save_checkpoint_with_step(self, runner, step: int, meta: dict) -> None:
        if not isinstance(self.file_backend, LocalBackend):
            return super()._save_checkpoint_with_step(runner, step, meta)
        outdated = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids[0])
            self.keep_ckpt_ids.append(step)  # the deque drops the oldest id
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        ckpt_filename = self.filename_tmpl.format(step)
        path = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', path)
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename + '.tmp',
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        self.last_ckpt = path
        if not is_main_process():
            return
        publish(path + '.tmp', path, durable=True)
        write_text_atomic(osp.join(runner.work_dir, 'last_checkpoint'), path,
                          durable=True)
        for old_step in outdated:
            old = self.file_backend.join_path(self.out_dir,
                                              self.filename_tmpl.format(old_step))
            if osp.isfile(old):
                os.remove(old)
