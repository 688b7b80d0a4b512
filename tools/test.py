"""Test with MMAction2's own ``tools/test.py``, with cacl_mm loaded first."""
from train import run

if __name__ == '__main__':
    run('test.py')
