"""Retrieval grid: test queries and their top-k train neighbours, hit or miss.

    python tools/retrieval.py CONFIG CKPT --work-dir W --save-topk 5
    python tools/visualize_retrieval.py W --out W/retrieval_grid.png

Reads ``W/retrieval.json`` (lists and video root of the run) and
``W/retrieval_topk.json``.
"""
from __future__ import annotations
import argparse
import json
import os.path as osp
import sys

from _cli import run_tool


def load_run(work_dir: str) -> tuple:
    """The retrieval run's summary and top-k rows, with clear errors."""
    summary_path = osp.join(work_dir, 'retrieval.json')
    topk_path = osp.join(work_dir, 'retrieval_topk.json')
    for path in (summary_path, topk_path):
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{path} not found: run tools/retrieval.py ... --work-dir '
                f'{work_dir} --save-topk 5 first')
    with open(summary_path) as f:
        summary = json.load(f)
    if 'gallery_list' not in summary:
        raise KeyError(f'{summary_path} has no gallery_list (written by an '
                       'older tools/retrieval.py); rerun it')
    with open(topk_path) as f:
        return summary, json.load(f)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dir', help='a tools/retrieval.py work dir')
    parser.add_argument('--out', help='default: WORK_DIR/retrieval_grid.png')
    parser.add_argument('--num-queries', type=int, default=4)
    parser.add_argument('--topk', type=int, default=5)
    parser.add_argument(
        '--frames', type=int, default=3, help='frames shown per clip')
    parser.add_argument('--tile', type=int, default=64, help='frame size (px)')
    parser.add_argument(
        '--classes', help='class names, one per line, by label')
    args = parser.parse_args(argv)

    def draw() -> str:
        summary, rows = load_run(args.work_dir)
        # cacl_mm (torch, mmaction) loads once the inputs are there: --help
        # and a missing run answer at once.
        from cacl_mm.utils.cli import read_class_names
        from cacl_mm.visualization.retrieval_grid import (draw_retrieval_grid,
                                                          read_list)
        return draw_retrieval_grid(
            rows, read_list(summary['gallery_list']),
            read_list(summary['query_list']), summary['video_root'], args.out
            or osp.join(args.work_dir, 'retrieval_grid.png'),
            read_class_names(args.classes), args.num_queries, args.topk,
            args.frames, args.tile)

    return run_tool('visualize_retrieval', draw)


if __name__ == '__main__':
    sys.exit(main())
