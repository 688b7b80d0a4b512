"""Train with MMAction2's own ``tools/train.py``, with cacl_mm loaded first.

Usage is exactly mmaction2's (``python tools/train.py CONFIG [--resume]
[--work-dir DIR] [--cfg-options ...] [--launcher pytorch]``). Importing
:mod:`cacl_mm` first applies the compatibility workarounds (so ``--resume``
works on torch >= 2.6) and registers the CACL components.
"""
import ast
import importlib.util
import os.path as osp
import runpy
import sys


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


def show_help(path: str) -> None:
    """Print the tool's ``--help`` from its ``parse_args`` alone.

    The tool's module imports mmengine's Runner and mmaction (torch) before
    it parses; its ``parse_args`` needs only argparse, os and ``DictAction``,
    so that one function runs (and exits with the help text).
    """
    from mmengine.config import DictAction
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    parse_args = [
        node for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == 'parse_args'
    ]
    if not parse_args:
        return  # another layout: the full tool prints the help
    namespace = dict(
        argparse=__import__('argparse'),
        os=__import__('os'),
        osp=osp,
        DictAction=DictAction)
    exec(compile(ast.Module(parse_args, []), path, 'exec'), namespace)
    namespace['parse_args']()


def run(name: str) -> None:
    """Run mmaction2's ``tools/<name>`` as ``__main__``, cacl_mm loaded."""
    path = mmaction_tool(name)
    if {'-h', '--help'} & set(sys.argv[1:]):
        show_help(path)
    import cacl_mm  # noqa: F401  (compat + registration)
    runpy.run_path(path, run_name='__main__')


if __name__ == '__main__':
    run('train.py')
