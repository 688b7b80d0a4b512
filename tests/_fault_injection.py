"""Test-only faults for real training subprocesses (via custom_imports).

* ``KillAtIterationHook(iteration)``: SIGKILL this process right after that
  training iteration (1-based), as an OOM killer or a pre-empted job would.
* ``CACL_TEST_KILL_WRITING=<name>``: while a file whose name contains
  ``<name>`` is written through mmengine's local backend (checkpoints), write
  half of its bytes, then SIGKILL this process.
* ``CACL_TEST_BREAK_DECODING=<name>``: ``DecordDecode`` raises decord's
  error for a video whose name contains ``<name>``: a file that opens and
  has its frames, then breaks while decoding (as a damaged stream does).
  With ``CACL_TEST_BREAK_ONCE=<file>`` only while ``<file>`` does not exist
  (the first break writes it, from any process).
"""
import os
import signal

from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import Hook

from mmaction.datasets.transforms import DecordDecode
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

_original_decode = DecordDecode.transform


def _decode_or_break(self, results):
    target = os.environ.get('CACL_TEST_BREAK_DECODING')
    once = os.environ.get('CACL_TEST_BREAK_ONCE')
    if target and target in os.path.basename(str(
            results.get('filename'))) and not (once and os.path.exists(once)):
        if once:
            open(once, 'w').close()
        import decord
        raise decord.DECORDError('[injected] corrupt packet while decoding')
    return _original_decode(self, results)


DecordDecode.transform = _decode_or_break
