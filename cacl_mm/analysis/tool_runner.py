"""Run the repository's tools as children of one process that imported the
stack once.

A tool started as ``python tools/train.py ...`` spends seconds importing
torch, mmengine, mmaction2 and cacl_mm before it reads its arguments (the
saving is measured in docs/get_started.md); the demo runs some twenty tools
per seed. :class:`ToolRunner` starts Python's
``forkserver`` once with those modules preloaded and forks every tool from
it: each tool still runs in its own process, from its own file as
``__main__``, with its own arguments, working directory and output, exactly
as on the command line; only the imports are shared (copy-on-write). The
server itself never runs a tensor operation, so no thread pool is forked.
"""
from __future__ import annotations
import multiprocessing
import os
import os.path as osp
import runpy
import sys
import threading
import warnings
from typing import Callable, List, Optional

#: What every tool imports before it parses its arguments; cacl_mm first:
#: its compat module makes mmaction2's models importable on this stack (the
#: fork server skips a module that raises ImportError, silently).
PRELOAD = ('cacl_mm', 'mmengine.runner', 'mmaction.datasets',
           'mmaction.models', 'mmaction.evaluation')


def exit_when_parent_dies() -> None:
    """Block until the process that started this one is gone, then end
    this process (exit code 1).

    A tool is the fork server's child, not the demo's: when the demo is
    killed (SIGTERM, a batch system's time limit) the server exits, but a
    running tool would go on alone, holding its CPU. The parent process's
    sentinel (``multiprocessing.parent_process()``: the demo, for a
    forkserver or spawn child) becomes ready when it dies.
    """
    parent = multiprocessing.parent_process()
    if parent is None:  # not started by multiprocessing
        return
    parent.join()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1)


def run_tool_here(script: str,
                  argv: List[str],
                  cwd: str,
                  output: str,
                  threads: Optional[int] = None) -> None:
    """The child's body: ``python SCRIPT ARGV`` run from ``cwd``, its
    stdout and stderr appended to ``output``, Python warnings off (as
    ``PYTHONWARNINGS=ignore``), torch's intra-op threads set to ``threads``
    if given (as ``OMP_NUM_THREADS``, which the preloaded torch has already
    read). An exception or ``sys.exit`` becomes the child's exit code as it
    would for the interpreter. If the process that asked for the tool
    dies, the tool ends too (:func:`exit_when_parent_dies`)."""
    threading.Thread(
        target=exit_when_parent_dies, name='parent-watch',
        daemon=True).start()
    fd = os.open(output, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.chdir(cwd)
    os.environ['PYTHONWARNINGS'] = 'ignore'  # the tool's own subprocesses
    warnings.simplefilter('ignore')
    if threads is not None:
        import torch  # preloaded: no import cost
        torch.set_num_threads(threads)
    sys.argv = [script] + list(argv)
    sys.path.insert(0, osp.dirname(osp.abspath(script)))  # as the interpreter
    try:
        runpy.run_path(script, run_name='__main__')
    finally:
        # multiprocessing ends the child with os._exit: flush what the
        # interpreter would have flushed on its way out.
        sys.stdout.flush()
        sys.stderr.flush()


class ToolRunner:
    """Forks each tool from one preloaded server (see the module docstring).

    Args:
        preload (tuple): Modules the server imports once.
    """

    def __init__(self, preload: tuple = PRELOAD) -> None:
        if 'forkserver' in multiprocessing.get_all_start_methods():
            self.context = multiprocessing.get_context('forkserver')
            self.context.set_forkserver_preload(list(preload))
        else:  # Windows: each tool imports the stack itself, as a subprocess
            self.context = multiprocessing.get_context('spawn')

    def run(self,
            script: str,
            argv: List[str],
            cwd: str,
            output: str,
            poll: Optional[Callable[[], None]] = None,
            interval: float = 1.0,
            threads: Optional[int] = None,
            cancel: Optional[threading.Event] = None) -> int:
        """Run ``script`` with ``argv`` to its end; its exit code.

        Args:
            script (str): The tool's file.
            argv (list[str]): Its arguments.
            cwd (str): Its working directory.
            output (str): The file its stdout and stderr are appended to.
            poll (callable, optional): Called every ``interval`` seconds
                while the tool runs, and once after it ends.
            interval (float): Seconds between polls.
            threads (int, optional): The tool's torch threads; by default
                what ``OMP_NUM_THREADS`` or the machine says.
            cancel (threading.Event, optional): When set, the tool is
                terminated (its exit code is then negative).
        """
        child = self.context.Process(
            target=run_tool_here, args=(script, argv, cwd, output, threads))
        child.start()
        while child.is_alive():
            child.join(interval)
            if cancel is not None and cancel.is_set() and child.is_alive():
                child.terminate()
                child.join()
            if poll is not None:
                poll()
        return child.exitcode
