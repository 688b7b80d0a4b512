"""A picture of retrieval: query clips and their top-k neighbours, hit or miss.

Drawn with mmengine's ``Visualizer`` (boxes and labels on one canvas), from
the ``retrieval_topk.json`` that ``VideoRetrievalMetric`` writes.
"""
from __future__ import annotations
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..utils.atomic import atomic_write_path

Video = Tuple[str, int]  # relative path, label

COLOURS = dict(query=(40, 90, 220), hit=(30, 170, 60), miss=(220, 40, 40))


def read_list(list_file: str) -> List[Video]:
    """``<relative path> <label>`` lines of an MMAction2 list file."""
    videos = []
    with open(list_file) as f:
        for line in f:
            if line.strip():
                rel, label = line.split()[:2]
                videos.append((rel, int(label)))
    return videos


def read_frames(path: str, num_frames: int, tile: int) -> np.ndarray:
    """``num_frames`` evenly spaced RGB frames, each resized to tile x tile."""
    import cv2
    import decord
    reader = decord.VideoReader(path, num_threads=1)
    indices = np.linspace(0, len(reader) - 1, num_frames).round().astype(int)
    frames = reader.get_batch(list(indices)).asnumpy()
    return np.stack([
        cv2.resize(f, (tile, tile), interpolation=cv2.INTER_AREA)
        for f in frames
    ])


def class_name(rel: str, label: int,
               class_names: Optional[Sequence[str]]) -> str:
    """The class name: from ``classes``, else the video's folder (UCF101)."""
    if class_names and 0 <= label < len(class_names):
        return class_names[label]
    folder = osp.dirname(rel)
    return osp.basename(folder) if folder else str(label)


def draw_retrieval_grid(topk_rows: Sequence[dict],
                        gallery: Sequence[Video],
                        queries: Sequence[Video],
                        video_root: str,
                        out_file: str,
                        class_names: Optional[Sequence[str]] = None,
                        num_queries: int = 4,
                        num_neighbours: int = 5,
                        frames_per_clip: int = 3,
                        tile: int = 64) -> str:
    """Write a grid PNG: one row per query, query clip then its neighbours.

    Args:
        topk_rows (list[dict]): ``retrieval_topk.json`` rows (``query``,
            ``neighbours``: gallery indices, best first).
        gallery / queries (list): (relative path, label) in list order.
        video_root (str): Folder the relative paths start from.
        out_file (str): PNG path. Its size is
            ``((1 + k) * frames_per_clip * tile + (k + 1) * 8,
            num_queries * (tile + 26))``.
        class_names (list[str], optional): Names by label index.
        num_queries (int): Queries shown, evenly spaced over the query list.
        num_neighbours (int): k.
        frames_per_clip (int): Frames shown per clip.
        tile (int): Frame size in pixels.
    """
    import cv2
    from mmengine.utils import ProgressBar
    from mmengine.visualization import Visualizer

    if not topk_rows:
        raise ValueError('no retrieval rows: run tools/retrieval.py with '
                         '--save-topk 5')
    k = min(num_neighbours, min(len(r['neighbours']) for r in topk_rows))
    picked = np.unique(
        np.linspace(0,
                    len(topk_rows) - 1, min(num_queries,
                                            len(topk_rows))).astype(int))
    gap, band, clip_w = 8, 18, frames_per_clip * tile
    row_h = band + tile + 8
    width = (1 + k) * clip_w + (k + 1) * gap
    canvas = np.full((len(picked) * row_h, width, 3), 255, dtype=np.uint8)
    boxes, colours, texts, positions = [], [], [], []
    progress = ProgressBar(len(picked))
    for r, row_index in enumerate(picked):
        row = topk_rows[row_index]
        query = queries[row['query']]
        clips = [('query', query)] + [
            ('hit' if gallery[g][1] == query[1] else 'miss', gallery[g])
            for g in row['neighbours'][:k]
        ]
        y = r * row_h + band
        for c, (kind, (rel, label)) in enumerate(clips):
            x = c * clip_w + (c + (1 if c else 0)) * gap
            frames = read_frames(
                osp.join(video_root, rel), frames_per_clip, tile)
            canvas[y:y + tile, x:x + clip_w] = np.concatenate(list(frames), 1)
            boxes.append([x + 1, y + 1, x + clip_w - 2, y + tile - 2])
            colours.append(COLOURS[kind])
            name = class_name(rel, label, class_names)
            prefix = 'query' if kind == 'query' else f'#{c} {kind}'
            texts.append(f'{prefix}: {name}')
            positions.append([x + 2, y - band + 2])
        progress.update()
    visualizer = Visualizer(
        name=f'retrieval_grid_{os.getpid()}_{id(canvas)}', image=canvas)
    visualizer.draw_bboxes(np.array(boxes), edge_colors=colours, line_widths=2)
    visualizer.draw_texts(
        texts, np.array(positions), colors='black', font_sizes=8)
    image = visualizer.get_image()
    with atomic_write_path(out_file, suffix='.png') as tmp:
        if not cv2.imwrite(tmp, image[..., ::-1]):
            raise OSError(f'cannot write {out_file}')
    return out_file
