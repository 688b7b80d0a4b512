"""``SkippedVideosHook``: list the videos a ``skip`` policy left out."""
from __future__ import annotations
import json
import os.path as osp
from collections import Counter
from typing import Any, Dict, List, Optional

from mmengine import dist
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmaction.registry import HOOKS
from ...utils.atomic import write_text_atomic


@HOOKS.register_module()
class SkippedVideosHook(Hook):
    """Collect ``metainfo['skipped_videos']`` records; report them per epoch.

    ``RobustVideoDataset(bad_video_policy='skip')`` attaches what it skipped
    to the next good sample, so the records reach the main process from any
    dataloader worker. At the end of each epoch the records of all ranks are
    gathered, logged (one line per file) and written to
    ``<work_dir>/skipped_videos.json``: one entry per file with its path,
    reason, how often it was drawn and the epochs. The file is rewritten
    atomically and keeps earlier epochs across ``--resume``. Before the
    first iteration it also lists the videos that the representation check
    leaves out (``RetrievalVideoDataset(leave_out_bad_videos=True)``).

    Args:
        out_file (str): File name inside the work dir.
    """

    priority = 'LOW'

    def __init__(self, out_file: str = 'skipped_videos.json') -> None:
        self.out_file = out_file
        self._epoch_records: List[Dict[str, str]] = []

    def before_train(self, runner) -> None:
        """Write the videos the representation check left out (its dataset's
        ``left_out_videos``, probed before the first iteration)."""
        loop = runner.val_loop
        left_out = getattr(
            getattr(getattr(loop, 'dataloader', None), 'dataset', None),
            'left_out_videos', None)
        if not left_out or not dist.is_main_process():
            return
        roles: Dict[str, List[str]] = {}
        for video in left_out:  # a video may stand in both lists
            roles.setdefault(video['path'], []).append(video['role'])
        path = osp.join(runner.work_dir, self.out_file)
        summary = self._load(path)
        for video in left_out:
            summary[video['path']] = dict(
                path=video['path'],
                reason=video['reason'],
                left_out_of='representation check (' +
                ' and '.join(roles[video['path']]) + ' list)',
                times_drawn=0,
                epochs=[])
        self._write(path, summary)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Take the records off this batch's data samples."""
        if not isinstance(data_batch, dict):
            return
        for sample in data_batch.get('data_samples') or []:
            records = getattr(sample, 'metainfo', {}).get('skipped_videos')
            if records:
                self._epoch_records.extend(records)

    def after_train_epoch(self, runner) -> None:
        """Gather, log and write this epoch's skipped videos."""
        gathered = dist.all_gather_object(self._epoch_records)
        self._epoch_records = []
        records = [r for rank_records in gathered for r in rank_records]
        if not dist.is_main_process():
            return
        path = osp.join(runner.work_dir, self.out_file)
        summary = self._load(path)
        counts = Counter((r['path'], r['reason']) for r in records)
        for (video, reason), count in counts.items():
            entry = summary.setdefault(
                video,
                dict(path=video, reason=reason, times_drawn=0, epochs=[]))
            entry['reason'] = reason
            entry['times_drawn'] += count
            if runner.epoch + 1 not in entry['epochs']:
                entry['epochs'].append(runner.epoch + 1)
        if counts:
            lines = '\n'.join(f'  {v} ({reason}) x{n}'
                              for (v, reason), n in sorted(counts.items()))
            print_log(
                f'epoch {runner.epoch + 1}: {sum(counts.values())} draws hit '
                f'{len(counts)} bad videos, each replaced by another sample:\n'
                f'{lines}\n  (all skipped videos: {path})',
                logger='current',
                level=30)
        if summary:
            self._write(path, summary)

    @staticmethod
    def _load(path: str) -> Dict[str, Any]:
        if not osp.isfile(path):
            return {}
        with open(path) as f:
            return {entry['path']: entry for entry in json.load(f)['videos']}

    @staticmethod
    def _write(path: str, summary: Dict[str, Any]) -> None:
        write_text_atomic(
            path,
            json.dumps(
                dict(
                    num_videos=len(summary),
                    videos=sorted(summary.values(), key=lambda e: e['path'])),
                indent=2))
