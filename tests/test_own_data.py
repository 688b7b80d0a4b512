"""Your own videos: the commands of the README's "Your own data" and of
docs/own_data.md on a collection that is not the demo's (6 classes, not
10; 72 videos, not 320; one split), in UCF101's layout with nothing else in
the folder. Every stage runs through ``tools/demo.py --collection`` (each
stage a tool in its own process), one epoch each: this checks the chain, not
the recipe."""
import json
import os
import os.path as osp
import re
import shutil
import sys

import pytest
import torch

from helpers import REPO, run


def test_the_whole_chain_on_a_collection_in_ucf101_layout(tmp_path):
    root = tmp_path / 'mine'
    run([
        sys.executable,
        osp.join(REPO, 'tools/data/generate_motion_benchmark.py'),
        str(root), '--num-classes', '6', '--num-groups', '6', '--num-splits',
        '1'
    ])
    for name in os.listdir(root):  # a user's folder: annotations + videos
        if name not in ('annotations', 'videos'):
            os.remove(root / name)
    assert sorted(os.listdir(root / 'annotations')) == [
        'classInd.txt', 'testlist01.txt', 'trainlist01.txt'
    ]

    out = tmp_path / 'out'
    run([
        sys.executable,
        osp.join(REPO, 'tools/demo.py'), '--collection',
        str(root), '--out-dir',
        str(out), '--epochs', '1', '--quiet'
    ],
        timeout=900)

    lists = out / 'lists'
    assert sorted(os.listdir(lists)) == [
        'mine_train_split_1_10pct_videos.txt', 'mine_train_split_1_videos.txt',
        'mine_val_split_1_videos.txt'
    ]
    results = json.loads((out / 'results.json').read_text())
    assert (results['num_classes'], results['num_train_videos'],
            results['num_test_videos']) == (6, 48, 24)
    for row in ('random_init', 'cacl', 'supervised'):
        for key in ('retrieval_r1', 'frozen_probe_top1', 'finetune_top1',
                    'finetune_10pct_top1'):
            assert 0 <= results[row][key] <= 1, (row, key)
    assert results['single_frame_probe']['chance'] == 1 / 6
    # The videos carry UCF101's _gNN_ names: where the nearest test video
    # of each test video comes from, for every row
    for row in ('random_init', 'cacl', 'supervised'):
        sources = results[row]['query_neighbours']
        assert sum(sources.values()) == pytest.approx(1), row
    for figure in results['figures'].values():
        assert (out / figure).stat().st_size > 0
    report = (out / 'results.md').read_text()
    assert 'Every training stage ran 1 epoch' in report
    # The supervised bound's fit of its own labels, the recipe's choices
    # and a verdict (one epoch learns nothing: CACL is not ahead).
    assert 0 <= results['supervised']['train_top1'] <= 1
    assert 'train_top1' not in results['random_init']
    # CACL's full fine-tune scored on its own train list too
    assert 0 <= results['cacl']['finetune_train_top1'] <= 1
    assert 'train_top1' not in results['cacl']
    assert "CACL's full fine-tune fits" in report
    assert results['recipe']['num_train_videos'] == 48
    assert results['recipe']['pretrain_epochs'] == 1
    assert results['verdict']['status'] in ('ahead', 'behind')
    assert results['verdict']['signals']['loss_contrast']
    assert '## Verdict' in report and 'own train videos' in report

    # Stage 0 handed to CACL by one option; the fine-tuned head has 6 classes.
    log = (out / 'demo.log').read_text()
    # Stages ran two at a time (two CPUs here): each tool's output went to
    # a file of its own and then into demo.log whole, under its command.
    assert not list(out.glob('demo.*.log'))
    blocks = log.split('\n$ ')[1:]
    assert len(blocks) >= 15
    for block in blocks:
        if ' tools/train.py ' in block.splitlines()[0]:
            work_dir = block.split('--work-dir ')[1].split()[0]
            assert f'Checkpoints will be saved to {work_dir}' in block
    assert 'model.transformer.frame_encoder_checkpoint=' in log
    # The schedules come from the recipe, scheduler included.
    assert log.count('param_scheduler.0.T_max=1') >= 2  # stage 0 and CACL
    assert 'param_scheduler.1.begin=1' in log  # fine-tuning: warm-up
    assert 'frame_encoder.init_cfg' not in log
    checkpoint = torch.load(
        (out / 'finetune_cacl' / 'last_checkpoint').read_text().strip(),
        map_location='cpu',
        weights_only=True)
    assert checkpoint['state_dict']['cls_head.fc_cls.weight'].shape[0] == 6

    # The test stage loads strictly: the same checkpoint against the config's
    # 10-class head is refused, not scored with a random head.
    proc = run([
        sys.executable,
        osp.join(REPO, 'tools', 'evaluate.py'),
        osp.join(REPO, 'configs/finetune/r3d_tiny_motion10_split1.py'),
        str(out / 'finetune_cacl' / 'epoch_1.pth'), '--work-dir',
        str(tmp_path / 'mismatch')
    ],
               check=False)
    assert proc.returncode != 0
    assert 'does not fit the model of' in proc.stderr
    assert 'cls_head.fc_cls.weight' in proc.stderr


def test_the_chain_on_plain_mmaction_lists(tmp_path):
    """Plain MMAction2 lists (``path label``) and a video folder: no
    annotations folder, the classes come from the labels."""
    root = tmp_path / 'plain'
    run([
        sys.executable,
        osp.join(REPO, 'tools/data/generate_motion_benchmark.py'),
        str(root), '--num-classes', '3', '--num-groups', '6', '--num-splits',
        '1', '--name', 'plain'
    ])
    shutil.rmtree(root / 'annotations')
    train = root / 'plain_train_split_1_videos.txt'
    test = root / 'plain_val_split_1_videos.txt'
    # Labels 0, 1, 11: more classes than the tiny configs' 10, so every
    # stage must be told the collection's class count.
    for path in (train, test):
        lines = path.read_text().splitlines()
        path.write_text(''.join(
            re.sub(r' 2$', ' 11', line) + '\n' for line in lines))
    out = tmp_path / 'out'
    run([
        sys.executable,
        osp.join(REPO, 'tools/demo.py'), '--train-list',
        str(train), '--test-list',
        str(test), '--video-root',
        str(root / 'videos'), '--out-dir',
        str(out), '--epochs', '1', '--no-figures', '--quiet'
    ],
        timeout=900)
    results = json.loads((out / 'results.json').read_text())
    assert (results['num_classes'], results['num_train_videos'],
            results['num_test_videos']) == (12, 24, 12)
    assert results['dataset'] == str(train)
    assert 0 <= results['cacl']['finetune_top1'] <= 1
    assert (out / 'classes.txt').read_text().split() == [
        f'class_{i}' for i in range(12)
    ]
    assert (out / 'lists' / 'own_train_split_1_10pct_videos.txt').is_file()
