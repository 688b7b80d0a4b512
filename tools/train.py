"""Train with MMAction2's own ``tools/train.py``, with cacl_mm loaded first.

Usage is exactly mmaction2's (``python tools/train.py CONFIG [--resume]
[--work-dir DIR] [--cfg-options ...] [--launcher pytorch]``). Importing
:mod:`cacl_mm` first applies the compatibility workarounds (so ``--resume``
works on torch >= 2.6) and registers the CACL components. ``--help`` is
mmaction2's too: the tool imports torch before it parses, so it takes a
few seconds.
"""
import importlib.util
import os.path as osp
import runpy


def mmaction_tool(name: str) -> str:
    """Path of a tool shipped inside the mmaction2 package (``.mim/tools``).

    Found without importing mmaction (which loads torch).
    """
    spec = importlib.util.find_spec('mmaction')
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError('mmaction2 is not installed')
    path = osp.join(
        list(spec.submodule_search_locations)[0], '.mim', 'tools', name)
    if not osp.isfile(path):
        raise FileNotFoundError(f'mmaction2 does not ship {path}')
    return path


def run(name: str) -> None:
    """Run mmaction2's ``tools/<name>`` as ``__main__``, cacl_mm loaded."""
    path = mmaction_tool(name)
    import cacl_mm  # noqa: F401  (compat + registration)
    runpy.run_path(path, run_name='__main__')


if __name__ == '__main__':
    run('train.py')
