"""Command-line pieces several tools share; argparse only, so that a tool's
``--help`` still answers before torch, mmaction or cacl_mm load."""
import argparse
import sys
from typing import Callable, Tuple

#: Errors that mean "the input is not there or not right", not a bug.
USER_ERRORS = (FileNotFoundError, KeyError, ValueError)


def run_tool(name: str, make_file: Callable[[], str]) -> int:
    """Run ``make_file``; print the path written (0) or an error (2).

    A tool reads its inputs first and imports cacl_mm (torch, mmaction)
    inside ``make_file`` only after that, so a missing input is named at
    once instead of after seconds of imports.
    """
    try:
        path = make_file()
    except USER_ERRORS as error:
        message = error.args[0] if isinstance(error, KeyError) else error
        print(f'{name}: error: {message}', file=sys.stderr)
        return 2
    print(f'written {path}')
    return 0


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
