"""A running stage's progress comes from mmengine's structured scalars.json
(the demo pipeline behind tools/demo.py), not from the tool's console text."""
import json
import os
import sys
import textwrap
import time

import pytest

from cacl_mm.analysis.demo_pipeline import Demo
from cacl_mm.utils.run_progress import ScalarsTail, format_scalars

TRAIN = {
    'lr': 0.05,
    'loss': 6.5,
    'loss_sdp': 2.0,
    'loss_contrast': 4.5,
    'cos_cnn_q': 0.558,
    'time': 0.4,
    'epoch': 1,
    'iter': 5,
    'step': 5
}
CHECK = {
    'retrieval/R@1': 0.15,
    'retrieval/num_queries': 200.0,
    'embedding/mean_cosine': 0.5,
    'data_time': 0.01,
    'step': 10
}


def test_format_scalars_train_check_and_nothing():
    assert format_scalars(TRAIN) == (
        'epoch 1, step 5: loss 6.500, loss_sdp 2.000, loss_contrast 4.500, '
        'cos_cnn_q 0.558')
    # Counts (num_queries) and timings are not shown.
    assert format_scalars(CHECK) == (
        'check at step 10: retrieval/R@1 0.150, embedding/mean_cosine 0.500')
    assert format_scalars({'data_time': 0.1, 'time': 0.2, 'step': 3}) is None


def write_lines(path, entries, end='\n'):
    with open(path, 'a') as f:
        f.write(''.join(json.dumps(e) + end for e in entries))


def test_tail_reads_new_whole_lines_one_train_line_per_epoch(tmp_path):
    old = tmp_path / '20260101_000000' / 'vis_data'
    old.mkdir(parents=True)
    write_lines(old / 'scalars.json', [dict(TRAIN, loss=9.0)])
    os.utime(old / 'scalars.json', (1, 1))  # an earlier run's file
    tail = ScalarsTail(str(tmp_path), since=time.time() - 1)
    assert tail.poll() == []
    new = tmp_path / '20260102_000000' / 'vis_data'
    new.mkdir(parents=True)
    path = new / 'scalars.json'
    write_lines(path, [TRAIN, dict(TRAIN, iter=10, step=10)])
    # Half of a line is not read until its end is written.
    with open(path, 'a') as f:
        f.write(json.dumps(dict(TRAIN, epoch=2, step=30))[:20])
    assert tail.poll() == [format_scalars(TRAIN)]
    with open(path, 'a') as f:
        f.write(json.dumps(dict(TRAIN, epoch=2, step=30))[20:] + '\n')
    write_lines(path, [CHECK])
    assert tail.poll() == [
        format_scalars(dict(TRAIN, epoch=2, step=30)),
        format_scalars(CHECK)
    ]
    assert tail.poll() == []


FAKE_TOOL = textwrap.dedent('''
    import json, os, sys
    work = sys.argv[sys.argv.index('--work-dir') + 1]
    os.makedirs(os.path.join(work, 'run', 'vis_data'))
    with open(os.path.join(work, 'run', 'vis_data', 'scalars.json'), 'w') as f:
        f.write(json.dumps({entry}) + chr(10))
    for i in range(30):
        print('console line', i)
    sys.exit({code})
''')


@pytest.mark.parametrize('code', [0, 3])
def test_demo_stage_shows_progress_and_on_failure_the_last_lines(
        tmp_path, capsys, code):
    tool = tmp_path / 'tool.py'
    tool.write_text(FAKE_TOOL.format(entry=repr(TRAIN), code=code))
    demo = Demo(str(tmp_path / 'out'), str(tmp_path), 0, False)
    args = [str(tool), '--work-dir', str(tmp_path / 'work')]
    if code:
        with pytest.raises(RuntimeError, match='exit 3'):
            demo.run(args, 'fake stage')
    else:
        demo.run(args, 'fake stage')
    shown = capsys.readouterr().out
    assert format_scalars(TRAIN) in shown
    # Console text stays in demo.log; only a failure shows its last lines.
    assert ('console line 29' in shown) == bool(code)
    assert 'console line 9' not in shown
    log = (tmp_path / 'out' / 'demo.log').read_text()
    assert 'console line 0' in log and 'console line 29' in log
    assert sys.executable in log
