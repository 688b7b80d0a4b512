"""Command-line pieces several tools share; argparse only, so that a tool's
``--help`` still answers before torch, mmaction or cacl_mm load."""
import argparse
from typing import Tuple


def add_size_argument(parser: argparse.ArgumentParser,
                      default: Tuple[int, int]) -> None:
    """``--size WIDTH HEIGHT`` of a figure in pixels."""
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=default,
        metavar=('WIDTH', 'HEIGHT'),
        help=f'figure size in pixels (default {default})')
