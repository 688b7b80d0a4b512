"""Progress of a running mmengine tool, read from its structured log.

Every Runner writes ``<work_dir>/<timestamp>/vis_data/scalars.json``: one
JSON object per logged train interval and per validation or test (mmengine's
``LocalVisBackend``). ``tools/demo.py`` shows a running stage's progress from
that file instead of picking lines out of the tool's console text, which
changes with mmengine's log format.
"""
from __future__ import annotations
import glob
import json
import os
import os.path as osp
from typing import Dict, List, Optional

#: Train scalars shown besides the losses (the collapse monitor, accuracy).
TRAIN_EXTRAS = ('cos_cnn_q', 'top1_acc')


def format_scalars(entry: Dict[str, float]) -> Optional[str]:
    """One line for a scalars.json entry, or None for nothing to show.

    Args:
        entry (dict): A train entry (``epoch``, ``iter``, ``loss`` ...) or a
            validation / test entry (``'retrieval/R@1'`` ...).

    Returns:
        str | None: ``'epoch 3, step 75: loss 5.120, ...'`` or
        ``'check at step 250: retrieval/R@1 0.150, ...'``.
    """
    if 'loss' in entry:
        shown = {
            k: v
            for k, v in entry.items()
            if k.startswith('loss') or k in TRAIN_EXTRAS
        }
        values = ', '.join(f'{k} {v:.3f}' for k, v in shown.items())
        return f"epoch {entry.get('epoch')}, step {entry.get('step')}: " \
            f'{values}'
    metrics = {k: v for k, v in entry.items() if '/' in k and '/num_' not in k}
    if not metrics:
        return None
    values = ', '.join(f'{k} {v:.3f}' for k, v in metrics.items())
    return f"check at step {entry.get('step')}: {values}"


class ScalarsTail:
    """New entries of the scalars.json a tool writes under ``work_dir``.

    Train entries are shown once per epoch (the first logged interval of
    each), validation and test entries always.

    Args:
        work_dir (str): The tool's ``--work-dir``.
        since (float): Wall-clock time the tool started; older runs' files
            in the same folder are not read.
    """

    def __init__(self, work_dir: str, since: float) -> None:
        self.work_dir = work_dir
        self.since = since
        self.path: Optional[str] = None
        self.offset = 0
        self.epoch = None

    def _find(self) -> Optional[str]:
        files = [
            f for f in glob.glob(
                osp.join(self.work_dir, '*', 'vis_data', 'scalars.json'))
            if os.stat(f).st_mtime >= self.since
        ]
        return max(files, key=os.path.getmtime) if files else None

    def poll(self) -> List[str]:
        """Lines for the entries written since the last call."""
        if self.path is None:
            self.path = self._find()
            if self.path is None:
                return []
        with open(self.path, 'rb') as f:
            f.seek(self.offset)
            data = f.read()
        # Only whole lines: the writer may be half-way through one.
        complete = data[:data.rfind(b'\n') + 1]
        self.offset += len(complete)
        lines = []
        for raw in complete.decode().splitlines():
            try:
                entry = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if 'loss' in entry:
                if entry.get('epoch') == self.epoch:
                    continue
                self.epoch = entry.get('epoch')
            line = format_scalars(entry)
            if line:
                lines.append(line)
        return lines
