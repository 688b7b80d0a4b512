"""Every command-line tool of ours answers ``--help`` before torch, mmaction
or cacl_mm load (those imports take seconds), through the entry point a user
runs. Import order is checked, not time: ``python -X importtime`` lists the
modules a run imported. ``tools/train.py`` and ``tools/test.py`` run
mmaction2's own tools verbatim, whose ``--help`` comes after torch: they
are checked to answer with mmaction2's options."""
import glob
import os.path as osp
import re
import subprocess
import sys

import pytest

from helpers import REPO

TOOLS = sorted(
    osp.relpath(path, REPO) for path in glob.glob(
        osp.join(REPO, 'tools', '**', '*.py'), recursive=True)
    if not osp.basename(path).startswith('_')
    and osp.basename(path) != 'split_lists.py')  # a module, not a tool
HEAVY = re.compile(r'\|\s+(torch|mmaction|cacl_mm)$')
#: mmaction2's own tools, run verbatim (their help follows their imports).
WRAPPERS = ('tools/train.py', 'tools/test.py')


def test_every_tool_is_listed():
    assert 'tools/train.py' in TOOLS
    assert 'tools/data/convert_ucf101.py' in TOOLS
    assert len(TOOLS) >= 13


@pytest.mark.parametrize('tool', [t for t in TOOLS if t not in WRAPPERS])
def test_help_answers_without_heavy_imports(tool):
    proc = subprocess.run([sys.executable, '-X', 'importtime', tool, '--help'],
                          cwd=REPO,
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'usage:' in proc.stdout
    heavy = [line for line in proc.stderr.splitlines() if HEAVY.search(line)]
    assert not heavy, f'{tool} --help imported {heavy}'
    assert 'Warning' not in re.sub(r'import time:.*\n', '', proc.stderr)


@pytest.mark.parametrize('tool', WRAPPERS)
def test_the_wrappers_help_is_mmaction2s(tool):
    proc = subprocess.run([sys.executable, tool, '--help'],
                          cwd=REPO,
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'usage:' in proc.stdout and '--cfg-options' in proc.stdout
