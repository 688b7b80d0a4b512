"""Bad input, exact resume after SIGKILL, atomic checkpoints, numerical faults.

Broken videos are real files made here (truncated, random bytes, a lying
header), read by the real decoder; training runs are real subprocesses of
tools/train.py that are killed with SIGKILL.
"""
import glob
import json
import os
import os.path as osp
import re
import struct
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from helpers import (CONFIG_TINY, REPO, SUBPROCESS_ENV, free_port, run,
                     tiny_cfg_options, write_video)

TRAIN = osp.join(REPO, 'tools', 'train.py')
PIPELINE = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=1, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]


def avi_with_lying_header(path: str, real_frames: int, claimed: int) -> None:
    """An XVID .avi of ``real_frames`` whose AVI headers claim ``claimed``."""
    from cacl_mm.datasets.motion_benchmark import write_video as write_avi
    frames = np.random.default_rng(0).integers(
        0, 255, (real_frames, 48, 64, 3), dtype=np.uint8)
    write_avi(path, frames)
    data = bytearray(open(path, 'rb').read())
    avih = data.find(b'avih')  # MainAVIHeader.dwTotalFrames: 5th dword
    struct.pack_into('<I', data, avih + 8 + 16, claimed)
    strh = data.find(b'strh')  # AVIStreamHeader.dwLength: 9th dword
    struct.pack_into('<I', data, strh + 8 + 32, claimed)
    open(path, 'wb').write(bytes(data))


def make_broken_videos(video_root: str, good: str) -> dict:
    """Every kind of broken file, made from real bytes; rel path -> reason."""
    data = open(osp.join(video_root, good), 'rb').read()
    bad = osp.join(video_root, 'bad')
    os.makedirs(bad, exist_ok=True)
    open(osp.join(bad, 'zero_bytes.mp4'), 'wb').close()
    with open(osp.join(bad, 'truncated.mp4'), 'wb') as f:
        f.write(data[:len(data) // 2])  # mp4v: the index (moov) is cut off
    with open(osp.join(bad, 'random_bytes.mp4'), 'wb') as f:
        f.write(np.random.default_rng(1).bytes(4096))
    write_video(osp.join(bad, 'too_short.mp4'), 4)
    avi_with_lying_header(osp.join(bad, 'header_lies.avi'), 4, 100)
    return {
        'bad/zero_bytes.mp4': 'empty file',
        'bad/truncated.mp4': 'Error reading',
        'bad/random_bytes.mp4': 'Error reading',
        'bad/missing.mp4': 'file not found',
        'bad/too_short.mp4': '4 frames, fewer than min_frames=',
        'bad/header_lies.avi': '4 frames, fewer than min_frames=',
    }


@pytest.fixture(scope='module')
def broken_dataset(tmp_path_factory):
    from helpers import write_tiny_dataset
    root = str(tmp_path_factory.mktemp('broken'))
    ann = write_tiny_dataset(root, num_videos=12, num_val=1)
    video_root = osp.join(root, 'videos')
    broken = make_broken_videos(video_root, 'class0/v_000.mp4')
    with open(ann, 'a') as f:
        f.writelines(f'{rel} 0\n' for rel in broken)
    return dict(root=root, ann_file=ann, video_root=video_root, broken=broken)


def build_dataset(ann_file, video_root, **kwargs):
    from mmengine.registry import init_default_scope

    from mmaction.registry import DATASETS
    init_default_scope('mmaction')
    return DATASETS.build(
        dict(
            type='RobustVideoDataset',
            ann_file=ann_file,
            data_prefix=dict(video=video_root),
            pipeline=PIPELINE,
            min_frames=8,
            **kwargs))


def test_the_lying_header_really_lies(broken_dataset):
    import cv2
    import decord
    path = osp.join(broken_dataset['video_root'], 'bad', 'header_lies.avi')
    capture = cv2.VideoCapture(path)
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 100
    capture.release()
    assert len(decord.VideoReader(path)) == 4


def test_the_check_leaves_bad_videos_out_but_never_runs_empty(
        broken_dataset, tmp_path):
    """``leave_out_bad_videos``: each broken file is left out with its
    reason; a list with nothing left stops the build, naming the list."""
    from mmengine.registry import init_default_scope

    from mmaction.registry import DATASETS
    init_default_scope('mmaction')
    only_bad = tmp_path / 'only_bad.txt'
    only_bad.write_text(''.join(f'{rel} 0\n'
                                for rel in broken_dataset['broken']))
    cfg = dict(
        type='RetrievalVideoDataset',
        gallery_ann_file=broken_dataset['ann_file'],
        query_ann_file=broken_dataset['ann_file'],
        data_prefix=dict(video=broken_dataset['video_root']),
        pipeline=PIPELINE,
        min_frames=8,
        leave_out_bad_videos=True)
    dataset = DATASETS.build(cfg)
    assert len(dataset) == 2 * 12
    left_out = {
        (osp.relpath(v['path'], broken_dataset['video_root']), v['role']):
        v['reason']
        for v in dataset.left_out_videos
    }
    for rel, reason in broken_dataset['broken'].items():
        for role in ('gallery', 'query'):
            assert reason in left_out[(rel, role)]
    with pytest.raises(
            ValueError,
            match=r'no video of the query list .*only_bad.txt can give a '
            r'clip to the representation check \(min_frames=8\)'):
        DATASETS.build(dict(cfg, query_ann_file=str(only_bad)))


def test_skip_policy_replaces_each_bad_video_and_says_why(broken_dataset):
    dataset = build_dataset(broken_dataset['ann_file'],
                            broken_dataset['video_root'])
    assert dataset.bad_video_policy == 'skip'
    np.random.seed(0)
    seen = set()
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        rel = osp.relpath(info['filename'], broken_dataset['video_root'])
        if rel not in broken_dataset['broken']:
            continue
        seen.add(rel)
        sample = dataset[index]
        # A real clip from a good video: 8 frames, not zeros.
        assert sample['inputs'].shape == (1, 3, 8, 32, 32)
        assert sample['inputs'].float().abs().sum() > 0
        records = sample['data_samples'].metainfo['skipped_videos']
        assert records[0]['path'] == info['filename']
        assert broken_dataset['broken'][rel] in records[0]['reason'], records
        # A good sample drawn next carries no stale record.
        assert 'skipped_videos' not in dataset[0]['data_samples'].metainfo
    assert seen == set(broken_dataset['broken'])


def test_raise_policy_names_the_file(broken_dataset):
    from cacl_mm.datasets import BadVideoError
    dataset = build_dataset(
        broken_dataset['ann_file'],
        broken_dataset['video_root'],
        test_mode=True)
    assert dataset.bad_video_policy == 'raise'
    index = next(
        i for i in range(len(dataset))
        if dataset.get_data_info(i)['filename'].endswith('truncated.mp4'))
    with pytest.raises(BadVideoError, match='truncated.mp4: .*Error reading'):
        dataset[index]
    assert dataset[0]['inputs'].shape == (1, 3, 8, 32, 32)


@pytest.mark.parametrize('line, problem', [
    ('class0/v_000.mp4 0 extra', 'expected "<relative path> <label>"'),
    ('class0/v_000.mp4 zero', "label 'zero' is not an integer"),
    ('class0/v_000.mp4 7',
     "unknown class index 7 (num_classes=2: a collection with more classes "
     "sets the dataset's num_classes and the head's, "
     "model.cls_head.num_classes)"),
    ('../outside/v_000.mp4 0', 'outside the data root'),
    ('/abs/v_000.mp4 0', 'outside the data root'),
])
def test_malformed_list_lines_are_refused_with_file_and_line(
        broken_dataset, tmp_path, line, problem):
    from cacl_mm.datasets.annotations import AnnotationError
    ann = tmp_path / 'list.txt'
    ann.write_text(f'class0/v_000.mp4 0\n{line}\n')
    with pytest.raises(AnnotationError) as error:
        build_dataset(str(ann), broken_dataset['video_root'], num_classes=2)
    assert f'{ann}:2: ' in str(error.value)
    assert problem in str(error.value)


def test_training_skips_bad_videos_and_lists_them(broken_dataset, tmp_path):
    work_dir = str(tmp_path / 'work')
    data = dict(
        ann_file=broken_dataset['ann_file'],
        video_root=broken_dataset['video_root'])
    proc = run([
        sys.executable,
        TRAIN,
        CONFIG_TINY,
        *tiny_cfg_options(
            data,
            work_dir,
            **{
                'train_cfg.max_epochs': 1,
                # One batch of all 17 videos: drop_last=True
                # would leave some out of a smaller batch size.
                'train_dataloader.batch_size': 17,
                'model.queue.length': 17,
                # The representation check (after the last epoch) reads
                # the same broken list as its gallery: left out there.
                'train_dataloader.num_workers': 2,
                'train_dataloader.dataset.num_classes': 2
            })
    ])
    log = proc.stdout + proc.stderr
    report = json.load(open(osp.join(work_dir, 'skipped_videos.json')))
    listed = {
        osp.relpath(v['path'], broken_dataset['video_root']): v
        for v in report['videos']
    }
    assert set(listed) == set(broken_dataset['broken'])
    for rel, reason in broken_dataset['broken'].items():
        assert reason in listed[rel]['reason']
        assert listed[rel]['epochs'] == [1]
        assert f'skipping bad video {listed[rel]["path"]}' in log
    assert 'draws hit 6 bad videos' in log
    # the check's gallery and queries are this list: 12 of 36 left out
    assert ('12 of 36 videos of the representation check cannot give a '
            'clip and are left out of it') in log
    assert all(listed[rel]['left_out_of'] == 'representation check '
               '(gallery and query list)' for rel in broken_dataset['broken'])
    assert 'retrieval/R@1' in log  # the check ran on the good videos
    assert 'Traceback' not in log
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))


# --------------------------------------------------------------- resume
RESUME_OPTS = {
    'train_cfg.max_epochs': 3,
    'default_hooks.checkpoint.interval': 1,
    'default_hooks.checkpoint.max_keep_ckpts': 1,
    'train_dataloader.num_workers': 2,
    'model.queue.length': 10,
}


def train_cmd(dataset, work_dir, *extra, **opts):
    return [
        sys.executable, TRAIN, CONFIG_TINY, *extra,
        *tiny_cfg_options(dataset, work_dir, **{
            **RESUME_OPTS,
            **opts
        })
    ]


def assert_same_training_state(a_path, b_path):
    a, b = torch.load(a_path), torch.load(b_path)
    assert a['meta']['iter'] == b['meta']['iter'] == 9
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key, value in a['state_dict'].items():
        # Same seed, same data order, same CPU kernels and thread count:
        # every tensor (weights, momentum encoders, queues) is bit-identical.
        assert torch.equal(value, b['state_dict'][key]), key
    for (ka, va), (kb, vb) in zip(a['optimizer']['state'].items(),
                                  b['optimizer']['state'].items()):
        assert torch.equal(va['momentum_buffer'], vb['momentum_buffer'])
    assert a['param_schedulers'] == b['param_schedulers']


def test_a_video_that_breaks_in_the_check_does_not_end_training(
        tiny_dataset, tmp_path):
    """The representation check is a monitor: a query video that opens
    (so the probe keeps it) but breaks while a DataLoader worker decodes it
    abandons that check with an error naming the file; training goes on and
    the next check runs."""
    queries = tmp_path / 'queries.txt'
    lines = open(tiny_dataset['val_file']).read().splitlines()
    broken = 'class0/v_breaks.mp4'
    os.link(
        osp.join(tiny_dataset['video_root'], lines[0].split()[0]),
        osp.join(tiny_dataset['video_root'], broken))
    queries.write_text('\n'.join(lines + [f'{broken} 0']) + '\n')
    data = dict(tiny_dataset, val_file=str(queries))
    work_dir = str(tmp_path / 'work')
    proc = run([
        sys.executable, TRAIN,
        with_faults(tmp_path), *tiny_cfg_options(
            data, work_dir, **{
                'train_cfg.max_epochs': 2,
                'train_cfg.val_interval': 1,
                'val_dataloader.num_workers': 1,
            })
    ],
               env=dict(
                   SUBPROCESS_ENV,
                   CACL_TEST_BREAK_DECODING='v_breaks',
                   CACL_TEST_BREAK_ONCE=str(tmp_path / 'broke')))
    log = proc.stdout + proc.stderr
    assert log.count(
        'representation check abandoned at epoch') == 1, log[-3000:]
    assert f'bad video {osp.join(tiny_dataset["video_root"], broken)}' in log
    assert 'corrupt packet while decoding' in log
    # the other check ran in full and training finished both epochs
    checks = re.findall(r'Epoch\(val\) \[(\d)\].*retrieval/R@1:', log)
    assert checks == ['2'], checks
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))


@pytest.fixture(scope='module')
def straight_run(tiny_dataset, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('straight'))
    run(train_cmd(tiny_dataset, work_dir))
    return osp.join(work_dir, 'epoch_3.pth')


def with_faults(tmp_path, **hook):
    """The tiny config with its own hooks (the same momentum schedule as the
    straight run) plus, given its options, ``KillAtIterationHook``."""
    config = tmp_path / 'faulty.py'
    hooks = [dict(h) for h in Config.fromfile(CONFIG_TINY).custom_hooks]
    if hook:
        hooks.append(dict(type='KillAtIterationHook', **hook))
    config.write_text(
        f"_base_ = [{CONFIG_TINY!r}]\n"
        "custom_imports = dict(imports=['cacl_mm', '_fault_injection'])\n"
        f"custom_hooks = {hooks!r}\n")
    return str(config)


def test_sigkill_mid_epoch_then_resume_matches_straight_run(
        tiny_dataset, tmp_path, straight_run):
    """Also what a resume continues from: the last checkpoint's step,
    queue pointer and momentum encoders (12 videos at batch 4: 3 steps an
    epoch, 4 keys a step, a queue of 10 keys)."""
    work_dir = str(tmp_path / 'work')
    config = with_faults(tmp_path, iteration=5)  # epoch 2 of 3, 2nd step
    cmd = train_cmd(tiny_dataset, work_dir)
    cmd[2] = config
    killed = run(cmd, check=False)
    assert killed.returncode == -9, killed.stderr[-3000:]
    assert open(osp.join(work_dir,
                         'last_checkpoint')).read().endswith('epoch_1.pth')
    epoch1 = torch.load(osp.join(work_dir, 'epoch_1.pth'))
    assert epoch1['meta']['iter'] == 3
    assert int(epoch1['state_dict']['queues.cnn.ptr']) == 12 % 10
    momentum = 'momentum_encoders.cnn.module.backbone.conv1.conv.weight'
    assert momentum in epoch1['state_dict']
    assert 'momentum_encoders.trans.module.clip_transformer.pos_embed' in \
        epoch1['state_dict']
    cmd[2] = CONFIG_TINY  # the same run, without the fault
    cmd.insert(3, '--resume')
    resumed = run(cmd)
    assert 'resumed epoch: 1, iter: 3' in resumed.stdout + resumed.stderr
    epoch3 = torch.load(osp.join(work_dir, 'epoch_3.pth'))
    assert epoch3['meta']['iter'] == 9
    # The resumed pointer: 36 keys -> 6; a queue restarted by the resume
    # would sit at 24 % 10 = 4.
    assert int(epoch3['state_dict']['queues.cnn.ptr']) == 36 % 10
    # The momentum encoder kept moving from its resumed state.
    assert not torch.equal(epoch1['state_dict'][momentum],
                           epoch3['state_dict'][momentum])
    scalars = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    assert scalars and any('loss_sdp' in open(p).read() for p in scalars)
    assert_same_training_state(straight_run, osp.join(work_dir, 'epoch_3.pth'))


def test_sigkill_while_writing_a_checkpoint_leaves_the_last_good_one(
        tiny_dataset, tmp_path, straight_run):
    work_dir = str(tmp_path / 'work')
    config = with_faults(tmp_path)
    cmd = train_cmd(tiny_dataset, work_dir)
    cmd[2] = config
    env = dict(SUBPROCESS_ENV, CACL_TEST_KILL_WRITING='epoch_2.pth')
    killed = run(cmd, check=False, env=env)
    assert killed.returncode == -9, killed.stderr[-3000:]
    # The torn bytes sit in a temporary file that --resume never reads;
    # epoch_1.pth is still there although max_keep_ckpts=1.
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth.tmp'))
    assert not osp.exists(osp.join(work_dir, 'epoch_2.pth'))
    last = open(osp.join(work_dir, 'last_checkpoint')).read()
    assert last.endswith('epoch_1.pth') and osp.isfile(last)
    cmd[2] = CONFIG_TINY
    cmd.insert(3, '--resume')
    run(cmd)
    assert_same_training_state(straight_run, osp.join(work_dir, 'epoch_3.pth'))
    # max_keep_ckpts=1 holds once the new checkpoint is safely written.
    assert sorted(
        osp.basename(p)
        for p in glob.glob(osp.join(work_dir, 'epoch_*.pth'))) == [
            'epoch_3.pth'
        ]


def test_two_process_resume_matches_straight_run(tiny_dataset, tmp_path):

    def torchrun(work_dir, *extra, **opts):
        run([
            sys.executable,
            '-m',
            'torch.distributed.run',
            '--nproc_per_node',
            '2',
            '--master_port',
            str(free_port()),
            TRAIN,
            CONFIG_TINY,
            '--launcher',
            'pytorch',
            *extra,
            *tiny_cfg_options(
                tiny_dataset,
                work_dir,
                **{
                    **RESUME_OPTS,
                    'train_dataloader.batch_size': 2,
                    # The stopped run has max_epochs=2: a cosine momentum over
                    # max_iters would differ from the straight run's by design.
                    'custom_hooks.0.momentum_schedule': 'constant',
                    'train_dataloader.num_workers': 1,
                    **opts
                })
        ])

    straight, stopped = str(tmp_path / 'straight'), str(tmp_path / 'stopped')
    torchrun(straight)
    torchrun(stopped, **{'train_cfg.max_epochs': 2})
    torchrun(stopped, '--resume')
    assert_same_training_state(
        osp.join(straight, 'epoch_3.pth'), osp.join(stopped, 'epoch_3.pth'))


# ---------------------------------------------------------- numerical faults
def test_non_finite_gradient_stops_before_the_step_and_names_everything():
    from types import SimpleNamespace

    from mmengine.logging import MessageHub
    from mmengine.optim import OptimWrapper

    from cacl_mm.engine import FiniteGradientHook
    model = nn.Sequential(nn.Linear(2, 2))
    model.register_parameter('scale', nn.Parameter(torch.zeros(1)))
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    FiniteGradientHook().before_train(
        SimpleNamespace(model=model, optim_wrapper=wrapper))
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', 41)
    hub.update_info('last_ckpt', '/work/epoch_3.pth')
    # A model's terms of this step (BaseMoCo.parse_losses keeps them here).
    model.last_loss_terms = {'loss_contrast': torch.tensor(0.0), 'loss': 0.0}
    before = [p.detach().clone() for p in model.parameters()]
    # A finite step first: the check lets it through.
    wrapper.update_params(model(torch.ones(1, 2)).sum())
    assert not torch.equal(before[0], model[0].weight)
    before = [p.detach().clone() for p in model.parameters()]
    # sqrt at 0: a finite loss (0) whose gradient is infinite.
    loss = torch.sqrt(model.scale).sum() + model(torch.ones(1, 2)).sum() * 0
    with pytest.raises(FloatingPointError) as error:
        wrapper.update_params(loss)
    message = str(error.value)
    assert 'non-finite gradient' in message and 'scale' in message
    assert 'iteration 42' in message and 'loss_contrast=0' in message
    assert 'last good checkpoint: /work/epoch_3.pth' in message
    for old, new in zip(before, model.parameters()):
        assert torch.equal(old, new)


def test_clip_grad_from_the_config_clips():
    from mmengine.optim import build_optim_wrapper
    model = nn.Linear(4, 1, bias=False)
    nn.init.zeros_(model.weight)
    wrapper = build_optim_wrapper(
        model,
        dict(optimizer=dict(type='SGD', lr=1.0), clip_grad=dict(max_norm=1.0)))
    wrapper.update_params(model(torch.tensor([[30., 40., 0., 0.]])).sum())
    # gradient (30, 40, 0, 0) has norm 50, clipped to norm 1: step -(0.6, 0.8)
    torch.testing.assert_close(model.weight.detach(),
                               torch.tensor([[-0.6, -0.8, 0., 0.]]))


# --------------------------------------------------------- safe loading
class RunsCode:
    """Pickles as a call to os.system: what a malicious checkpoint holds."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


@pytest.fixture
def evil_checkpoint(tmp_path):
    marker = tmp_path / 'code_ran'
    path = tmp_path / 'evil.pth'
    torch.save(
        dict(
            state_dict={'backbone.conv1.conv.weight': torch.zeros(1)},
            meta=dict(epoch=1, iter=1),
            payload=RunsCode(str(marker))), path)
    return str(path), marker


REFUSED = ('Weights only load failed', 'Unsupported global')


def assert_refused(text, marker):
    assert any(r in text for r in REFUSED), text[-2000:]
    assert not marker.exists(), 'the pickled code ran'


def test_resume_and_load_from_refuse_code(tiny_dataset, tmp_path,
                                          evil_checkpoint):
    path, marker = evil_checkpoint
    for extra in (['--resume', path], ['--cfg-options', f'load_from={path}']):
        work_dir = str(tmp_path / extra[0].strip('-'))
        cmd = [
            sys.executable, TRAIN, CONFIG_TINY, *tiny_cfg_options(
                tiny_dataset, work_dir, **{'train_cfg.max_epochs': 1})
        ]
        if extra[0] == '--resume':
            cmd[3:3] = extra
        else:
            cmd.append(f'load_from={path}')
        proc = run(cmd, check=False)
        assert proc.returncode != 0
        assert_refused(proc.stdout + proc.stderr, marker)


def test_pretrained_and_init_cfg_refuse_code(evil_checkpoint):
    from mmaction.registry import MODELS
    path, marker = evil_checkpoint
    r3d = MODELS.build(
        dict(
            type='ResNet3d',
            depth=18,
            pretrained=path,
            pretrained2d=False,
            base_channels=8))
    with pytest.raises(Exception) as error:
        r3d.init_weights()
    assert_refused(str(error.value), marker)
    encoder = MODELS.build(
        dict(
            type='TransformerClipEncoder',
            frame_encoder=dict(type='ResNet', depth=18),
            frame_encoder_checkpoint=path,
            frame_feat_dims=512,
            embed_dims=64,
            num_frames=8,
            num_layers=1,
            num_heads=2))
    with pytest.raises(Exception) as error:
        encoder.init_weights()
    assert_refused(str(error.value), marker)


def test_export_and_retrieval_tools_refuse_code(evil_checkpoint, tmp_path,
                                                tiny_dataset):
    path, marker = evil_checkpoint
    export = run([
        sys.executable,
        osp.join(REPO, 'tools', 'export_backbone.py'), path,
        str(tmp_path / 'out.pth')
    ],
                 check=False)
    assert export.returncode != 0
    assert_refused(export.stdout + export.stderr, marker)
    retrieval = run([
        sys.executable,
        osp.join(REPO, 'tools',
                 'retrieval.py'), CONFIG_TINY, path, '--work-dir',
        str(tmp_path / 'r'), '--gallery-list', tiny_dataset['ann_file'],
        '--video-root', tiny_dataset['video_root']
    ],
                    check=False)
    assert retrieval.returncode != 0
    assert_refused(retrieval.stdout + retrieval.stderr, marker)
