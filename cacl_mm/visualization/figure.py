"""A matplotlib figure of an exact pixel size, written atomically."""
from __future__ import annotations
from typing import Tuple

from ..utils.atomic import atomic_write_path

DPI = 100


def new_figure(size: Tuple[int, int], ncols: int = 1, nrows: int = 1):
    """A headless figure of ``size`` = (width, height) pixels and its axes."""
    import matplotlib
    matplotlib.use('Agg', force=False)
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(
        nrows,
        ncols,
        squeeze=False,
        figsize=(size[0] / DPI, size[1] / DPI),
        dpi=DPI)
    return fig, axes


def save_figure(fig, path: str) -> str:
    """Write ``fig`` as a PNG of exactly its pixel size; close it."""
    import matplotlib.pyplot as plt
    try:
        with atomic_write_path(path) as tmp:
            # no bbox_inches: keep the size
            fig.savefig(tmp, dpi=DPI, format='png')
    finally:
        plt.close(fig)
    return path
