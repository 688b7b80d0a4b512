"""Is the edit-distance head learning frame order or guessing? A confusion matrix."""
from __future__ import annotations

from typing import Iterable, Tuple

import numpy as np
import torch

from ..models.recognizers.cacl import stack_sample_field
from ..utils.edit_distance import label_to_med
from .figure import new_figure, save_figure


@torch.no_grad()
def med_confusion_matrix(model, batches: Iterable[dict],
                         total: int = 0) -> np.ndarray:
    """Count (true, predicted) edit-distance classes over held-out clips.

    Args:
        model (CACL): With an ``sdp_head``; put in eval mode here.
        batches (iterable): Collated ``{'inputs', 'data_samples'}`` batches of
            the CACL training pipeline (two views; view 1 is used).
        total (int): Number of batches, for the progress bar.

    Returns:
        np.ndarray: (T, T) int64 counts, rows true, columns predicted.
    """
    from mmengine.utils import ProgressBar
    model.eval()
    num_classes = model.sdp_head.num_classes
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    progress = ProgressBar(total) if total else None
    for batch in batches:
        data = model.data_preprocessor(batch, training=False)
        samples = data['data_samples']
        clips = data['inputs'][:, 0]
        order = stack_sample_field(samples, 'shuffle_order', clips.device)
        labels = stack_sample_field(samples, 'med_label', clips.device)
        predicted = model.predict_shuffle_degree(clips, order).argmax(dim=1)
        np.add.at(matrix, (labels.cpu().numpy(), predicted.cpu().numpy()), 1)
        if progress:
            progress.update()
    return matrix


def plot_med_confusion(matrix: np.ndarray, out_file: str, title: str = '',
                       size: Tuple[int, int] = (720, 640)) -> str:
    """Row-normalised confusion matrix with the accuracy and chance in the title."""
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
    ax.set_title(f'{title} accuracy {100 * accuracy:.1f}% '
                 f'(chance {100 / len(matrix):.1f}%), {int(matrix.sum())} clips'
                 .strip(), fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return save_figure(fig, out_file)
