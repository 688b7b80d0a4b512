"""2-D maps (t-SNE, scikit-learn) of video features coloured by class."""
from __future__ import annotations
from typing import Optional, Sequence, Tuple

import numpy as np

from .figure import new_figure, save_figure

Panel = Tuple[str, np.ndarray,
              np.ndarray]  # title, (N, D) features, (N,) labels


def tsne_2d(features: np.ndarray, seed: int = 0) -> np.ndarray:
    """(N, D) -> (N, 2) t-SNE of L2-normalised features (cosine geometry)."""
    from sklearn.manifold import TSNE
    feats = features / np.maximum(
        np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    perplexity = float(min(30., max(2., (len(feats) - 1) / 3.)))
    return TSNE(
        n_components=2, init='pca', perplexity=perplexity,
        random_state=seed).fit_transform(feats)


def plot_embedding_maps(
        panels: Sequence[Panel],
        out_file: str,
        class_names: Optional[Sequence[str]] = None,
        seed: int = 0,
        size: Tuple[int, int] = (1400, 650),
) -> str:
    """Side-by-side t-SNE maps, one panel per feature set, shared colours.

    Raises:
        ValueError: For a panel whose features and labels disagree in
            length, or with fewer than 5 videos.
    """
    from mmengine.utils import ProgressBar
    for title, feats, labels in panels:
        if len(feats) != len(labels) or feats.ndim != 2:
            raise ValueError(f'{title}: features {feats.shape} vs labels '
                             f'{np.shape(labels)}')
        if len(feats) < 5:
            raise ValueError(f'{title}: {len(feats)} videos, t-SNE needs >= 5')
    import matplotlib
    classes = sorted({int(c) for _, _, labels in panels for c in labels})
    cmap = matplotlib.colormaps['tab20' if len(classes) > 10 else 'tab10']
    fig, axes = new_figure(size, ncols=len(panels))
    progress = ProgressBar(len(panels))
    for ax, (title, feats, labels) in zip(axes[0], panels):
        points = tsne_2d(np.asarray(feats, dtype=np.float64), seed)
        labels = np.asarray(labels)
        for i, cls in enumerate(classes):
            mask = labels == cls
            name = class_names[cls] if class_names and cls < len(
                class_names) else str(cls)
            ax.scatter(
                points[mask, 0],
                points[mask, 1],
                s=10,
                color=cmap(i % cmap.N),
                label=name)
        ax.set_title(f'{title} ({len(feats)} videos)')
        ax.set_xticks([])
        ax.set_yticks([])
        progress.update()
    if len(classes) <= 20:
        axes[0][-1].legend(
            fontsize=7,
            markerscale=1.5,
            loc='center left',
            bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return save_figure(fig, out_file)
