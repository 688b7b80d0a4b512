"""Training curves of one or several work dirs in one PNG.

    python tools/plot_curves.py work_dirs/cacl_a work_dirs/cacl_b \
        --out curves.png [--keys loss_contrast loss_sdp acc_sdp] [--smooth 5]

Reads mmengine's ``<work_dir>/<timestamp>/vis_data/scalars.json`` (written by
``LocalVisBackend``; resumed runs are stitched, the later value wins).
"""
from __future__ import annotations
import argparse
import sys

from _cli import add_size_argument, run_tool


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dirs', nargs='+')
    parser.add_argument('--out', required=True, help='PNG file')
    parser.add_argument(
        '--keys',
        nargs='+',
        help='scalars to draw (default: the losses and the '
        'diagnostics of a CACL run)')
    parser.add_argument('--labels', nargs='+', help='legend names')
    parser.add_argument(
        '--smooth',
        type=int,
        default=1,
        help='moving-average window (logged points)')
    add_size_argument(parser, default=(1500, 450))
    args = parser.parse_args(argv)
    # cacl_mm (torch, mmaction) loads after parsing: --help answers at once.
    from cacl_mm.visualization.curves import CURVE_KEYS, plot_curves
    args.keys = args.keys or list(CURVE_KEYS)
    return run_tool(
        'plot_curves',
        lambda: plot_curves(args.work_dirs, args.out, args.keys, args.labels,
                            args.smooth, tuple(args.size)))


if __name__ == '__main__':
    sys.exit(main())
