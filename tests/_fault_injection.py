"""Test-only faults for real training subprocesses (via custom_imports).

* ``KillAtIterationHook(iteration)``: SIGKILL this process right after that
  training iteration (1-based), as an OOM killer or a pre-empted job would.
* ``CACL_TEST_KILL_WRITING=<name>``: while a file whose name contains
  ``<name>`` is written through mmengine's local backend (checkpoints), write
  half of its bytes, then SIGKILL this process.
"""
import os
import signal

from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import Hook

from mmaction.registry import HOOKS


@HOOKS.register_module()
class KillAtIterationHook(Hook):

    priority = 'LOWEST'

    def __init__(self, iteration: int) -> None:
        self.iteration = iteration

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        if runner.iter + 1 == self.iteration:
            os.kill(os.getpid(), signal.SIGKILL)


_original_put = LocalBackend.put


def _put_then_die(self, obj, filepath):
    target = os.environ.get('CACL_TEST_KILL_WRITING')
    if target and target in os.path.basename(str(filepath)):
        with open(filepath, 'wb') as f:
            f.write(obj[:len(obj) // 2])
            f.flush()
            os.fsync(f.fileno())
        os.kill(os.getpid(), signal.SIGKILL)
    return _original_put(self, obj, filepath)


LocalBackend.put = _put_then_die
