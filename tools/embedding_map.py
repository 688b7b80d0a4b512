"""t-SNE maps of test-split features, coloured by class, side by side.

    python tools/retrieval.py CONFIG none --work-dir W_random --save-features
    python tools/retrieval.py CONFIG CKPT --work-dir W_cacl --save-features
    python tools/embedding_map.py "random init=W_random" "CACL=W_cacl" \
        --out map.png

Each argument is ``TITLE=PATH`` with PATH a retrieval work dir (or its
``retrieval_features.npz``); the query (test split) features are mapped.
"""
from __future__ import annotations
import argparse
import os.path as osp
import sys

import numpy as np

from _cli import add_size_argument, run_tool


def load_panel(spec: str) -> tuple:
    """``TITLE=PATH`` -> (title, query features, query labels)."""
    if '=' not in spec:
        raise ValueError(f'{spec!r}: expected TITLE=PATH')
    title, path = spec.split('=', 1)
    if osp.isdir(path):
        path = osp.join(path, 'retrieval_features.npz')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found: run tools/retrieval.py '
                                'with --save-features')
    data = np.load(path)
    return title, data['query_features'], data['query_labels']


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('panels', nargs='+', help='TITLE=PATH')
    parser.add_argument('--out', required=True, help='PNG file')
    parser.add_argument(
        '--classes', help='class names, one per line, by label')
    parser.add_argument('--seed', type=int, default=0)
    add_size_argument(parser, default=(1400, 650))
    args = parser.parse_args(argv)

    def plot() -> str:
        panels = [load_panel(p) for p in args.panels]
        # cacl_mm (torch, mmaction) loads once the inputs are there: --help
        # and a missing file answer at once.
        from cacl_mm.utils.cli import read_class_names
        from cacl_mm.visualization.embedding_map import plot_embedding_maps
        return plot_embedding_maps(panels, args.out,
                                   read_class_names(args.classes), args.seed,
                                   tuple(args.size))

    return run_tool('embedding_map', plot)


if __name__ == '__main__':
    sys.exit(main())
