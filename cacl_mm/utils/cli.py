"""What the figure tools' command lines share: class names, clean failures."""
from __future__ import annotations
import sys
from typing import Callable, List, Optional

#: Errors that mean "the input is not there or not right", not a bug.
USER_ERRORS = (FileNotFoundError, KeyError, ValueError)


def read_class_names(path: Optional[str]) -> Optional[List[str]]:
    """Class names, one per line in label order; None without a file."""
    if not path:
        return None
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def run_tool(name: str, make_file: Callable[[], str]) -> int:
    """Run ``make_file``; print the path written (0) or an error (2)."""
    try:
        path = make_file()
    except USER_ERRORS as error:
        message = error.args[0] if isinstance(error, KeyError) else error
        print(f'{name}: error: {message}', file=sys.stderr)
        return 2
    print(f'written {path}')
    return 0
