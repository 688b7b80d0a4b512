"""Run the demo's stages at once where they do not depend on each other.

The demo's stages are tools in their own processes; on a small CPU one tool
cannot use every core (the tiny models are too small to split across
threads well), so two tools with half the threads each finish sooner than
the same two one after the other (docs/benchmark.md). :class:`StageGraph`
holds the stages with the stages each one needs, and runs them on ``jobs``
threads, each starting a stage as soon as what it needs is done, the
earliest added first: add the longest chain first.
"""
from __future__ import annotations
import threading
from concurrent.futures import (FIRST_COMPLETED, Future, ThreadPoolExecutor,
                                wait)
from typing import Any, Callable, Dict, List, Optional, Sequence


class Stage:
    """One stage: a callable, the stages it needs and, once run, its value.

    Args:
        name (str): What the stage is (in errors).
        fn (callable): Called with no arguments.
        after (sequence of Stage): Stages that must end first.
    """

    def __init__(self, name: str, fn: Callable[[], Any],
                 after: Sequence['Stage']) -> None:
        self.name = name
        self.fn = fn
        self.after = list(after)
        self.future: Optional[Future] = None

    @property
    def done(self) -> bool:
        return self.future is not None and self.future.done()

    def result(self) -> Any:
        """The stage's return value (it must have ended)."""
        if not self.done:
            raise RuntimeError(f'stage {self.name!r} has not run yet')
        return self.future.result()


class StageGraph:
    """Stages with dependencies, run on a pool of ``jobs`` threads.

    A stage that raises stops the graph: no stage starts after it, the
    ``cancel`` event is set (tools that watch it end early), the stages
    already running are waited for, and the first error is raised again.

    Args:
        jobs (int): Stages run at once, at least 1; 1 runs them one after
            the other in the order they were added.
        cancel (threading.Event, optional): The event set on an error
            (a new one by default).
    """

    def __init__(self,
                 jobs: int,
                 cancel: Optional[threading.Event] = None) -> None:
        if jobs < 1:
            raise ValueError(f'jobs must be at least 1, got {jobs}')
        self.jobs = jobs
        self.stages: List[Stage] = []
        self.cancel = cancel or threading.Event()

    def add(self,
            name: str,
            fn: Callable[[], Any],
            after: Sequence[Stage] = ()) -> Stage:
        """Add a stage; ``after`` must already be in the graph."""
        for stage in after:
            if stage not in self.stages:
                raise ValueError(f'stage {name!r} needs {stage.name!r}, '
                                 'which is not in the graph yet')
        stage = Stage(name, fn, after)
        self.stages.append(stage)
        return stage

    def run(self) -> Dict[str, Any]:
        """Run every stage; their values by name."""
        pending = list(self.stages)
        running: Dict[Future, Stage] = {}
        error: Optional[BaseException] = None
        with ThreadPoolExecutor(self.jobs) as pool:
            while pending or running:
                if error is None:
                    for stage in list(pending):
                        if len(running) == self.jobs:
                            break
                        if all(s.done for s in stage.after):
                            pending.remove(stage)
                            stage.future = pool.submit(stage.fn)
                            running[stage.future] = stage
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    running.pop(future)
                    if future.exception() is not None and error is None:
                        error = future.exception()
                        self.cancel.set()
        if error is not None:
            raise error
        return {stage.name: stage.result() for stage in self.stages}
