"""The demo's stages run as forks of one preloaded process: each tool must
behave as ``python TOOL ARGS`` does (``__main__``, its arguments, working
directory, sibling imports, output, exit code), only without paying the
stack's imports again."""
import os
import subprocess
import sys
import threading
import time

import pytest

from cacl_mm.analysis.tool_runner import ToolRunner

TOOL = '''
import os, sys, warnings
preloaded = 'mmaction.models' in sys.modules  # before this file imports it
import sibling
import torch
warnings.warn('a warning PYTHONWARNINGS=ignore hides')
torch.manual_seed(0)
print('name', __name__, 'preloaded', preloaded)
print('argv', sys.argv[1:], 'cwd', os.getcwd(), 'path0', sys.path[0])
print('sibling', sibling.VALUE, 'pid', os.getpid())
print('threads', torch.get_num_threads(), 'draw', torch.randn(3).tolist())
print('to stderr', file=sys.stderr)
if sys.argv[1] == 'raise':
    raise ValueError('the tool failed')
sys.exit(int(sys.argv[1]))
'''


@pytest.fixture(scope='module')
def runner() -> ToolRunner:
    return ToolRunner()


@pytest.fixture
def tool(tmp_path):
    folder = tmp_path / 'tools'
    folder.mkdir()
    (folder / 'sibling.py').write_text('VALUE = 42\n')
    script = folder / 'tool.py'
    script.write_text(TOOL)
    return script


@pytest.mark.parametrize('code', [0, 3])
def test_a_forked_tool_runs_as_its_command_line(runner, tool, tmp_path, code):
    output = tmp_path / 'out.log'
    output.write_text('earlier line\n')
    polls = []
    assert runner.run(
        str(tool), [str(code), '--flag'],
        str(tmp_path),
        str(output),
        poll=lambda: polls.append(1),
        interval=0.05) == code
    lines = output.read_text().splitlines()
    assert lines[0] == 'earlier line'  # appended, not overwritten
    out = '\n'.join(lines)
    assert 'name __main__ preloaded True' in out
    assert f"argv ['{code}', '--flag'] cwd {tmp_path} " \
           f"path0 {tool.parent}" in out
    assert 'sibling 42' in out and f'pid {os.getpid()}' not in out
    assert 'to stderr' in out
    assert 'warning' not in out
    assert polls  # at least once, after the end


def test_an_exception_is_exit_code_1_with_its_traceback(
        runner, tool, tmp_path):
    output = tmp_path / 'out.log'
    assert runner.run(str(tool), ['raise'], str(tmp_path), str(output)) == 1
    text = output.read_text()
    assert 'Traceback' in text and 'ValueError: the tool failed' in text


def test_the_same_as_a_subprocess(runner, tool, tmp_path):
    """Thread count and random draws: the fork is the interpreter's run."""
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    proc = subprocess.run([sys.executable, str(tool), '0'],
                          cwd=str(tmp_path),
                          env=env,
                          capture_output=True,
                          text=True)
    output = tmp_path / 'out.log'
    runner.run(str(tool), ['0'], str(tmp_path), str(output))

    def comparable(text):
        return [
            line for line in text.splitlines()
            if line.startswith(('threads', 'argv'))
        ]

    assert comparable(output.read_text()) == comparable(proc.stdout)
    assert len(comparable(proc.stdout)) == 2


@pytest.mark.parametrize('threads', [1, 2])
def test_a_tool_gets_the_threads_it_is_given(runner, tool, tmp_path, threads):
    """The preloaded torch has read OMP_NUM_THREADS already: the count
    given to the fork is what the tool's torch uses."""
    output = tmp_path / 'out.log'
    assert runner.run(
        str(tool), ['0'], str(tmp_path), str(output), threads=threads) == 0
    assert f'threads {threads} ' in output.read_text()


def test_a_cancelled_tool_is_terminated(runner, tmp_path):
    script = tmp_path / 'sleeps.py'
    script.write_text('import time\nprint("started", flush=True)\n'
                      'time.sleep(60)\nprint("not reached")\n')
    output = tmp_path / 'out.log'
    cancel = threading.Event()
    threading.Timer(1.0, cancel.set).start()
    start = time.time()
    code = runner.run(
        str(script), [],
        str(tmp_path),
        str(output),
        interval=0.1,
        cancel=cancel)
    assert code < 0 and time.time() - start < 30
    assert 'not reached' not in output.read_text()


RUNNER_PROCESS = """
import sys
from cacl_mm.analysis.tool_runner import ToolRunner
if __name__ == '__main__':
    ToolRunner(preload=()).run(sys.argv[1], [], sys.argv[2], sys.argv[3])
"""


def is_running(pid: int) -> bool:
    """Alive and not a zombie (a container's init may not reap at once)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except FileNotFoundError:
        return False


@pytest.mark.skipif(
    not os.path.isdir('/proc'), reason='reads /proc to see the tool')
def test_a_tool_ends_when_the_process_that_ran_it_is_killed(tmp_path):
    """SIGTERM to the demo must not leave its running tool behind: the
    tool is the fork server's child and would otherwise run on alone."""
    script = tmp_path / 'sleeps.py'
    pid_file = tmp_path / 'tool.pid'
    script.write_text('import os, time\n'
                      f'open({str(pid_file)!r}, "w").write(str(os.getpid()))\n'
                      'time.sleep(120)\n')
    launcher = tmp_path / 'launcher.py'
    launcher.write_text(RUNNER_PROCESS)
    proc = subprocess.Popen([
        sys.executable,
        str(launcher),
        str(script),
        str(tmp_path),
        str(tmp_path / 'out.log')
    ])
    try:
        deadline = time.time() + 60
        while not pid_file.exists() or not pid_file.read_text():
            assert time.time() < deadline, 'the tool did not start'
            time.sleep(0.1)
        tool_pid = int(pid_file.read_text())
        assert is_running(tool_pid)
        proc.terminate()
        proc.wait(10)
        deadline = time.time() + 30
        while is_running(tool_pid):
            assert time.time() < deadline, 'the tool outlived its runner'
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.kill()
