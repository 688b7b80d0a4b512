"""Real runs through mmengine's Runner on tiny generated videos (decord).

Training then ``--resume`` is checked in test_reliability, against a run
that was never stopped."""
import os.path as osp
import sys

import torch

from helpers import CONFIG_TINY, REPO, free_port, run, tiny_cfg_options

TRAIN = osp.join(REPO, 'tools', 'train.py')


def test_a_last_partial_batch_is_dropped_not_fatal(tiny_dataset, tmp_path):
    """13 videos at batch 2: the last batch would hold one clip, whose
    shuffle-BN sub-batch cannot be normalised (``Expected more than 1 value
    per channel``). The pretraining configs drop it, as MoCo does."""
    thirteen = tmp_path / 'thirteen.txt'
    lines = open(tiny_dataset['ann_file']).readlines()
    thirteen.write_text(''.join(lines) +
                        open(tiny_dataset['val_file']).readline())
    assert len(thirteen.read_text().splitlines()) == 13
    work_dir = str(tmp_path / 'work')
    data = dict(tiny_dataset, ann_file=str(thirteen))
    proc = run([
        sys.executable, TRAIN, CONFIG_TINY, *tiny_cfg_options(
            data, work_dir, **{
                'train_dataloader.batch_size': 2,
                'train_cfg.max_epochs': 1
            })
    ])
    assert torch.load(osp.join(work_dir, 'epoch_1.pth'))['meta']['iter'] == 6
    assert 'Traceback' not in proc.stdout + proc.stderr


def test_mim_train_runs_the_tiny_config(tiny_dataset, tmp_path):
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    work_dir = str(tmp_path / 'mim_work')
    run([
        mim, 'train', 'mmaction', CONFIG_TINY, *tiny_cfg_options(
            tiny_dataset, work_dir, **{'train_cfg.max_epochs': 1})
    ])
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))


def test_torchrun_two_processes_keep_ranks_identical(tiny_dataset, tmp_path):
    dump = tmp_path / 'dump'
    dump.mkdir()
    config = tmp_path / 'ddp_tiny.py'
    config.write_text(
        f"_base_ = [{CONFIG_TINY!r}]\n"
        "custom_imports = dict(imports=['cacl_mm', '_rank_dump_hook'])\n"
        "custom_hooks = [dict(type='MoCoQueueHook'),\n"
        "                dict(type='RankStateDumpHook', "
        f"out_dir={str(dump)!r})]\n")
    # 12 videos over 2 ranks x batch 2: 3 iterations, 4 keys per step.
    run([
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
        '--master_port',
        str(free_port()), TRAIN,
        str(config), '--launcher', 'pytorch', *tiny_cfg_options(
            tiny_dataset, str(tmp_path / 'work'), **{
                'train_cfg.max_epochs': 1,
                'train_dataloader.batch_size': 2
            })
    ])
    for iteration in range(3):
        r0 = torch.load(dump / f'rank0_iter{iteration}.pt')
        r1 = torch.load(dump / f'rank1_iter{iteration}.pt')
        for key, value in r0.items():
            if 'num_batches_tracked' in key:
                continue
            # Online weights are identical by DDP; BatchNorm running stats
            # are per rank until SyncBuffersHook; everything else must agree.
            if 'running_' in key:
                continue
            torch.testing.assert_close(value, r1[key], msg=key)
    final = torch.load(dump / 'rank0_iter2.pt')
    assert int(final['queues.cnn.ptr']) == 12 % 8
