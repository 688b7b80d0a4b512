"""Train with MMAction2's own ``tools/train.py``, with cacl_mm loaded first.

Usage is exactly mmaction2's (``python tools/train.py CONFIG [--resume]
[--work-dir DIR] [--cfg-options ...] [--launcher pytorch]``). Importing
:mod:`cacl_mm` first applies the compatibility workarounds (so ``--resume``
works on torch >= 2.6) and registers the CACL components.
"""
import os.path as osp
import runpy

import cacl_mm  # noqa: F401  (compat + registration)


def mmaction_tool(name: str) -> str:
    """Path of a tool shipped inside the mmaction2 package (``.mim/tools``)."""
    import mmaction
    path = osp.join(osp.dirname(mmaction.__file__), '.mim', 'tools', name)
    if not osp.isfile(path):
        raise FileNotFoundError(f'mmaction2 does not ship {path}')
    return path


if __name__ == '__main__':
    runpy.run_path(mmaction_tool('train.py'), run_name='__main__')
