"""Atomic file writes: a temporary file beside the target, renamed onto it.

A reader (``--resume``, a figure viewer, the next run of a generator) sees
either the old file or the complete new one, never a torn one.
"""
from __future__ import annotations
import os
import os.path as osp
from contextlib import contextmanager
from typing import Iterator


def publish(tmp: str, path: str, durable: bool = False) -> None:
    """Rename the fully written ``tmp`` onto ``path``.

    Args:
        durable (bool): fsync the file before and its folder after the
            rename, so that the new file also survives a power loss
            (checkpoints); plain renames are atomic against kills already.
    """
    if durable:
        with open(tmp, 'rb') as f:
            os.fsync(f.fileno())
    os.replace(tmp, path)
    if durable and hasattr(os, 'O_DIRECTORY'):  # POSIX: persist the rename
        fd = os.open(osp.dirname(osp.abspath(path)), os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextmanager
def atomic_write_path(path: str,
                      suffix: str = '',
                      durable: bool = False) -> Iterator[str]:
    """A temporary path to write; renamed onto ``path`` if the block succeeds.

    Args:
        path (str): The target; its folder is created.
        suffix (str): Appended to the temporary name, for writers that pick
            the format from the extension (``'.png'``, ``'.avi'``).
        durable (bool): See :func:`publish`.

    A failing block removes the temporary file and leaves ``path`` as it was.
    """
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp-{os.getpid()}{suffix}'
    try:
        yield tmp
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    publish(tmp, path, durable)


def write_text_atomic(path: str, text: str, durable: bool = False) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_write_path(path, durable=durable) as tmp:
        with open(tmp, 'w') as f:
            f.write(text)
