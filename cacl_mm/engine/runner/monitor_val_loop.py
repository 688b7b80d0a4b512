"""``MonitorValLoop``: a validation that watches training, never ends it."""
from __future__ import annotations
import re
from typing import Dict, List

import torch
from mmengine.dist import all_reduce
from mmengine.logging import print_log
from mmengine.runner import ValLoop
from mmengine.runner.loops import _parse_losses

from mmaction.registry import LOOPS
from ...datasets import BadVideoError


@LOOPS.register_module()
class MonitorValLoop(ValLoop):
    """mmengine's ``ValLoop`` for a check that must not stop training.

    The representation check during pretraining is a monitor, not the
    result: a video that breaks while the check decodes it (``BadVideoError``
    from the dataset, in the main process or a DataLoader worker) ends that
    check, not the run. Every rank learns of it (one ``all_reduce``, so no
    rank waits in the evaluator's gather), the partial results are dropped,
    the error is logged naming the file, ``failed_checks`` records it and
    training goes on. Any other error is a bug and propagates.

    With ``RetrievalVideoDataset(leave_out_bad_videos=True)`` the videos
    that do not open are already left out before the first iteration; this
    loop covers what only decoding finds.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.failed_checks: List[Dict[str, object]] = []

    def run(self) -> dict:
        """Run the check; an empty dict when a video broke on any rank."""
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')
        self.runner.model.eval()
        self.val_loss.clear()
        error = None
        try:
            for idx, data_batch in enumerate(self.dataloader):
                self.run_iter(idx, data_batch)
        except BadVideoError as bad:
            error = bad
        if self._failed_anywhere(error is not None):
            metrics = self._abandon(error)
        else:
            metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
            if self.val_loss:
                metrics.update(_parse_losses(self.val_loss, 'val'))
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics

    @staticmethod
    def _failed_anywhere(failed_here: bool) -> bool:
        flag = torch.tensor([int(failed_here)])
        all_reduce(flag)  # a no-op in a single process
        return bool(flag.item())

    def _abandon(self, error) -> dict:
        for metric in self.evaluator.metrics:
            metric.results.clear()  # this check's partial results
        text = str(error) if error is not None else 'on another rank'
        found = re.findall(r'bad video (.+?): ', text)
        record = dict(
            epoch=self.runner.epoch,
            video=found[-1] if found else None,
            error=text.strip().splitlines()[-1][:500])
        self.failed_checks.append(record)
        print_log(
            f'representation check abandoned at epoch {record["epoch"]}: '
            f'{record["error"]}. Training goes on; the next check runs '
            'again (leave the file out of the lists, or repair it).',
            logger='current',
            level=40)
        return {}
