"""Training curves from the ``scalars.json`` of mmengine's LocalVisBackend."""
from __future__ import annotations
import glob
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .figure import new_figure, save_figure

#: CACL's curves: the two losses and the training accuracy of the
#: edit-distance head, the collapse monitor of the 3D embeddings, and the
#: representation check of the validation loop (retrieval R@1 of held-out
#: queries, spread of their embeddings, held-out edit-distance accuracy).
CURVE_KEYS = ('loss_contrast', 'loss_sdp', 'acc_sdp', 'cos_cnn_q',
              'retrieval/R@1', 'embedding/mean_cosine', 'sdp/accuracy')
#: Panels per row of the figure.
PANELS_PER_ROW = 4

Curve = Tuple[np.ndarray, np.ndarray]


def scalar_files(work_dir: str) -> List[str]:
    """``<work_dir>/<timestamp>/vis_data/scalars.json``, oldest run first.

    Raises:
        FileNotFoundError: When the work dir has none.
    """
    if not osp.isdir(work_dir):
        raise FileNotFoundError(f'work dir not found: {work_dir}')
    files = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise FileNotFoundError(
            f'{work_dir} has no <timestamp>/vis_data/scalars.json: not an '
            'mmengine training work dir, or its visualizer has no '
            'LocalVisBackend')
    return files


def load_curves(work_dir: str,
                keys: Sequence[str] = CURVE_KEYS) -> Dict[str, Curve]:
    """Training scalars of a work dir as ``{key: (steps, values)}``.

    A resumed run writes a new timestamp folder that repeats some steps; the
    later run's value wins, so the curve is that of the final weights.
    """
    by_key: Dict[str, Dict[int, float]] = {key: {} for key in keys}
    for path in scalar_files(work_dir):
        with open(path) as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f'{path}:{number}: not JSON ({error})')
                if 'step' not in record:
                    continue
                for key in keys:
                    if key in record:
                        by_key[key][int(record['step'])] = float(record[key])
    return {
        key: (np.array(sorted(points)),
              np.array([points[s] for s in sorted(points)]))
        for key, points in by_key.items() if points
    }


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average (the first points average what exists)."""
    if window <= 1 or len(values) == 0:
        return values
    cumsum = np.cumsum(np.insert(values, 0, 0.))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (cumsum[1:] - cumsum[np.arange(len(values)) + 1 - counts]) / counts


def plot_curves(work_dirs: Sequence[str],
                out_file: str,
                keys: Sequence[str] = CURVE_KEYS,
                labels: Optional[Sequence[str]] = None,
                window: int = 1,
                size: Tuple[int, int] = (1500, 450)) -> str:
    """One PNG, one panel per key, one line per work dir.

    Args:
        work_dirs (list[str]): mmengine work dirs.
        out_file (str): PNG path.
        keys (list[str]): Scalars to plot.
        labels (list[str], optional): Legend names; default the folder names.
        window (int): Moving-average window in logged points.
        size (tuple): (width, height) in pixels.

    Raises:
        FileNotFoundError: A work dir without ``scalars.json``.
        KeyError: A key that none of the work dirs logged.
    """
    labels = list(labels or [osp.basename(osp.normpath(w)) for w in work_dirs])
    if len(labels) != len(work_dirs):
        raise ValueError(
            f'{len(labels)} labels for {len(work_dirs)} work dirs')
    curves = [load_curves(w, keys) for w in work_dirs]
    missing = [k for k in keys if not any(k in c for c in curves)]
    if missing:
        raise KeyError(
            f'{", ".join(missing)} not logged in any of '
            f'{", ".join(work_dirs)} (found: '
            f'{sorted(set().union(*curves)) or "none of " + str(list(keys))})')
    ncols = min(len(keys), PANELS_PER_ROW)
    nrows = -(-len(keys) // ncols)
    fig, axes = new_figure((size[0], size[1] * nrows),
                           nrows=nrows,
                           ncols=ncols)
    panels = [ax for row in axes for ax in row]
    for ax, key in zip(panels, keys):
        # Validation metrics ('group/name') are few points: not smoothed.
        key_window = 1 if '/' in key else window
        for label, curve in zip(labels, curves):
            if key in curve:
                steps, values = curve[key]
                ax.plot(
                    steps,
                    smooth(values, key_window),
                    label=label,
                    lw=1.2,
                    marker='o' if '/' in key else None,
                    ms=3)
        ax.set_title(key)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
    for ax in panels[len(keys):]:
        ax.set_visible(False)
    panels[0].legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, out_file)
