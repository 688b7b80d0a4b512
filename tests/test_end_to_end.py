"""Real runs through mmengine's Runner on tiny generated videos (decord)."""
import glob
import os.path as osp
import sys

import torch

from helpers import CONFIG_TINY, REPO, free_port, run, tiny_cfg_options

TRAIN = osp.join(REPO, 'tools', 'train.py')


def test_train_then_resume_continues_from_the_checkpoint(
        tiny_dataset, tmp_path):
    work_dir = str(tmp_path / 'work')
    # 12 videos, batch 4: 3 iterations per epoch; queue of 10 (< 12 videos).
    opts = dict(**{
        'model.queue.length': 10,
        'default_hooks.checkpoint.interval': 1
    })
    run([
        sys.executable, TRAIN, CONFIG_TINY, *tiny_cfg_options(
            tiny_dataset, work_dir, **opts, **{'train_cfg.max_epochs': 2})
    ])
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))
    epoch2 = torch.load(osp.join(work_dir, 'epoch_2.pth'))
    assert epoch2['meta']['iter'] == 6
    # 6 steps x 4 keys = 24 keys in a queue of 10.
    assert int(epoch2['state_dict']['queues.cnn.ptr']) == 4
    assert 'momentum_encoders.cnn.module.backbone.conv1.conv.weight' in epoch2[
        'state_dict']
    key = 'momentum_encoders.trans.module.clip_transformer.pos_embed'
    assert key in epoch2['state_dict']

    proc = run([
        sys.executable, TRAIN, CONFIG_TINY, '--resume', *tiny_cfg_options(
            tiny_dataset, work_dir, **opts, **{'train_cfg.max_epochs': 3})
    ])
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 2, iter: 6' in log
    epoch3 = torch.load(osp.join(work_dir, 'epoch_3.pth'))
    assert epoch3['meta']['iter'] == 9
    # Resumed pointer: 36 keys -> 6. A fresh queue would sit at 12 % 10 = 2.
    assert int(epoch3['state_dict']['queues.cnn.ptr']) == 6
    # The momentum encoder kept moving from its resumed state.
    key = 'momentum_encoders.cnn.module.backbone.conv1.conv.weight'
    assert not torch.equal(epoch2['state_dict'][key],
                           epoch3['state_dict'][key])
    scalars = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    assert scalars and any('loss_sdp' in open(p).read() for p in scalars)


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
