"""Is the edit-distance head learning frame order or guessing? A confusion
matrix, as ``ShuffleDegreeMetric`` counts it."""
from __future__ import annotations
from typing import Tuple

import numpy as np

from ..utils.edit_distance import label_to_med
from .figure import new_figure, save_figure


def plot_med_confusion(
        matrix: np.ndarray,
        out_file: str,
        title: str = '',
        size: Tuple[int, int] = (720, 640),
) -> str:
    """Row-normalised confusion matrix; accuracy and chance in the title."""
    counts = matrix.sum(axis=1, keepdims=True)
    rates = matrix / np.maximum(counts, 1)
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    distances = [label_to_med(i) for i in range(len(matrix))]
    fig, axes = new_figure(size)
    ax = axes[0][0]
    image = ax.imshow(rates, vmin=0, vmax=1, cmap='viridis')
    ax.set_xticks(range(len(distances)), distances, fontsize=7)
    ax.set_yticks(range(len(distances)), distances, fontsize=7)
    ax.set_xlabel('predicted edit distance')
    ax.set_ylabel('true edit distance')
    ax.set_title(
        f'{title} accuracy {100 * accuracy:.1f}% '
        f'(chance {100 / len(matrix):.1f}%), {int(matrix.sum())} clips'.strip(
        ),
        fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return save_figure(fig, out_file)
