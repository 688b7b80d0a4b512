"""Test with MMAction2's own ``tools/test.py``, with cacl_mm loaded first."""
import runpy

from train import mmaction_tool

if __name__ == '__main__':
    runpy.run_path(mmaction_tool('test.py'), run_name='__main__')
