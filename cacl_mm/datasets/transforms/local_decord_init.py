"""``LocalDecordInit``: MMAction2's ``DecordInit``, local files by path."""
from __future__ import annotations
import os.path as osp

from mmaction.datasets.transforms import DecordInit
from mmaction.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LocalDecordInit(DecordInit):
    """``DecordInit`` that hands decord the path of a local file.

    MMAction2's ``DecordInit`` reads the whole file into memory and gives
    decord a ``BytesIO``, which decord then reads through a Python
    callback. For a file on the local disk, the path lets FFmpeg read it
    itself, which is cheaper per clip (``tools/benchmark.py --pipeline``
    measures both, docs/benchmark.md). Any other file backend (``io_backend``
    or its arguments), and a name without an extension (MMAction2 adds
    ``.mp4``), go to ``DecordInit`` unchanged; the frames are the same.

    Args:
        io_backend (str): As ``DecordInit``. Defaults to ``'disk'``.
        num_threads (int): decord's decoding threads. Defaults to 1.
        **kwargs: The file backend's arguments, as ``DecordInit``.
    """

    def _get_video_reader(self, filename: str) -> object:
        if (self.io_backend == 'disk' and not self.kwargs
                and osp.splitext(filename)[1] and osp.isfile(filename)):
            import decord
            return decord.VideoReader(filename, num_threads=self.num_threads)
        return super()._get_video_reader(filename)
