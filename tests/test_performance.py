"""Performance features: shared frame features are exact, AMP keeps fp32 where
it must, channels-last changes layout only, and the benchmark runs.

No timing is asserted here: figures live in tools/benchmark.py's JSON.
"""
import json
import os.path as osp
import subprocess
import sys
from collections import Counter
from unittest import mock

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch.nn.modules.module import register_module_forward_hook

from cacl_mm.analysis import benchmarking as benchmark
from cacl_mm.models import REPRESENTATIONS, Arch
from helpers import CONFIG_TINY, REPO, capture_keys, run


@pytest.fixture(scope='module')
def tiny_cfg():
    init_default_scope('mmaction')
    cfg = Config.fromfile(CONFIG_TINY)
    cfg.model.queue.length = 16
    return cfg


def build(cfg, variant='cacl', channels_last=False, seed=0):
    torch.manual_seed(seed)
    return benchmark.build_model(cfg.model, variant, torch.device('cpu'),
                                 channels_last)


def loss_of(model, data):
    torch.manual_seed(1)  # the same shuffle-BN permutation for both models
    losses = model(**model.data_preprocessor(data, True), mode='loss')
    model.enqueue_pending_keys()
    return losses


def test_naive_and_shared_frame_features_give_the_same_losses(tiny_cfg):
    """The twin's tokens are the original's frame features, permuted: running
    the frozen 2D CNN on the shuffled clip (the released code) changes
    nothing but the cost."""
    data = benchmark.make_batch(4, 8, 32, 2, torch.device('cpu'))
    shared, naive = build(tiny_cfg), build(tiny_cfg, 'naive')
    naive.load_state_dict(shared.state_dict())
    ours, theirs = loss_of(shared, data), loss_of(naive, data)
    for key in ('loss_contrast', 'loss_sdp', 'nce_cnn_q-trans_q',
                'nce_trans_q-trans_k'):
        torch.testing.assert_close(
            ours[key], theirs[key], rtol=1e-5, atol=1e-6, msg=key)


def modules_run(model, fn) -> Counter:
    """(module name, input shapes) of every module forward during ``fn``."""
    names = {id(m): n for n, m in model.named_modules()}
    calls = Counter()

    def record(module, args, output):
        if id(module) in names:
            shapes = tuple(
                tuple(a.shape) for a in args if isinstance(a, torch.Tensor))
            calls[(names[id(module)], shapes)] += 1

    handle = register_module_forward_hook(record)
    try:
        fn()
    finally:
        handle.remove()
    return calls


def test_floor_parts_run_what_the_loss_runs(tiny_cfg):
    """The benchmark's floor times the model's own seams: its parts, each
    called once, run the same modules on the same shapes as one ``loss``
    call, so a change of the model's step cannot leave the floor behind."""
    model = build(tiny_cfg)
    data = benchmark.make_batch(4, 8, 32, 2, torch.device('cpu'))
    wrapper = benchmark.build_optim_wrapper(model, 'none')
    parts = benchmark.floor_parts(model, data, wrapper, torch.device('cpu'),
                                  'none')
    timed = [
        fn for name, (_, fn) in parts.items()
        if name != ('optimizer_step_and_momentum_update')
    ]
    in_parts = modules_run(model, lambda: [fn() for fn in timed])
    model.enqueue_pending_keys()
    in_loss = modules_run(model, lambda: loss_of(model, data))
    # The model's own forward and its data preprocessor run once per step,
    # outside every part.
    in_loss = Counter({
        k: v
        for k, v in in_loss.items()
        if k[0] and not k[0].startswith('data_preprocessor')
    })
    assert in_parts == in_loss
    # And a part left out is seen: without the heads the necks' calls go.
    del timed[-1]
    assert modules_run(model, lambda: [fn() for fn in timed]) != in_loss


def test_frozen_and_momentum_parts_keep_no_autograd_graph(tiny_cfg):
    model = build(tiny_cfg)
    data = benchmark.make_batch(2, 8, 32, 2, torch.device('cpu'))
    processed = model.data_preprocessor(data, True)
    clips = processed['inputs'][:, 0]
    feats = model.transformer.extract_frame_features(clips)
    assert not feats.requires_grad and feats.grad_fn is None
    # Keys of the momentum encoders are plain tensors (no graph to free).
    keys = capture_keys(model)
    loss_of(model, data)
    assert set(keys) == {'cnn', 'trans'}
    for key in keys.values():
        assert key.grad_fn is None and not key.requires_grad


def test_channels_last_changes_layout_not_results(tiny_cfg):
    data = benchmark.make_batch(4, 8, 32, 2, torch.device('cpu'))
    default, last = build(tiny_cfg), build(tiny_cfg, channels_last=True)
    last.load_state_dict(default.state_dict())
    weight = last.backbone.conv1.conv.weight
    assert weight.is_contiguous(memory_format=torch.channels_last_3d)
    assert last.momentum_encoder(Arch.CNN).backbone.conv1.conv.weight \
        .is_contiguous(memory_format=torch.channels_last_3d)
    ours, theirs = loss_of(default, data), loss_of(last, data)
    torch.testing.assert_close(
        ours['loss_contrast'], theirs['loss_contrast'], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('dtype', [
    'bfloat16',
    pytest.param(
        'float16',
        marks=pytest.mark.skipif(
            not torch.cuda.is_available(),
            reason="mmengine's CPU autocast is bf16 only; fp16 needs a GPU"))
])
def test_amp_optim_wrapper_trains_with_fp32_queues_and_logits(tiny_cfg, dtype):
    """mmengine's AmpOptimWrapper (CPU autocast here; it asserts a GPU, which
    the test lifts) runs CACL steps; the InfoNCE logits and the queues stay
    float32 while the encoders compute in low precision."""
    from mmengine.optim import build_optim_wrapper

    from cacl_mm.models.heads import cross_arch_contrastive_head as heads
    model = build(tiny_cfg)
    data = benchmark.make_batch(4, 8, 32, 2, torch.device('cpu'))
    path = 'mmengine.optim.optimizer.amp_optimizer_wrapper.is_cuda_available'
    with mock.patch(path, return_value=True):
        wrapper = build_optim_wrapper(
            model,
            dict(
                type='AmpOptimWrapper',
                dtype=dtype,
                optimizer=dict(type='SGD', lr=0.01, momentum=0.9)))
    logits_dtypes, key_dtypes = [], []
    original = heads.info_nce

    def spy(anchor, positive, negatives, temperature, *args, **options):
        loss = original(anchor, positive, negatives, temperature, *args,
                        **options)
        logits_dtypes.append(loss.dtype)
        key_dtypes.append(positive.dtype)
        return loss

    keys = capture_keys(model)
    with mock.patch.object(heads, 'info_nce', spy):
        for _ in range(2):
            log_vars = model.train_step(data, wrapper)
            for key in keys.values():
                assert key.dtype == getattr(torch, dtype)  # low precision
            model.after_optimizer_step()
    assert np.isfinite(float(log_vars['loss']))
    assert set(logits_dtypes) == {torch.float32}
    assert getattr(torch, dtype) in key_dtypes  # the inputs were not fp32
    for queue in model.queues.values():
        assert queue.keys.dtype == torch.float32
        assert int(queue.ptr) == 8  # 2 steps x 4 keys written


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_info_nce_and_queues_stay_fp32_under_autocast(tiny_cfg, dtype):
    model = build(tiny_cfg)
    queue = model.queues['cnn']
    keys = torch.randn(4, queue.keys.shape[1])
    with torch.autocast('cpu', dtype=dtype):
        low = torch.nn.functional.linear(keys, torch.eye(keys.shape[1]))
        assert low.dtype == dtype
        losses = model.contrast_head.loss(
            {rep: low
             for rep in REPRESENTATIONS}, model.negatives())
        queue.enqueue(low)
    assert losses['loss_contrast'].dtype == torch.float32
    assert queue.keys.dtype == torch.float32
    torch.testing.assert_close(queue.keys[:4], low.float())


def test_benchmark_writes_every_figure(tmp_path):
    out = tmp_path / 'bench.json'
    proc = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'benchmark.py'), '--setting', 'tiny',
        '--batch', '2', '--repeats', '1', '--calls', '300', '--videos', '2',
        '--rounds', '1', '--retrieval-scale', '0.02', '--out',
        str(out)
    ],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.load(open(out))
    pipeline = report['pipeline']
    assert pipeline['videos']['count'] == 2
    assert set(pipeline['ms_per_clip']) == {
        'cacl', 'cacl_per_frame', 'mmaction_one_view', 'floor_decord',
        'floor_decord_resized', 'floor_pyav', 'floor_pyav_counted'
    }
    assert all(v > 0 for v in pipeline['ms_per_clip'].values())
    # every stage of each pipeline is timed, each under its own name
    assert set(pipeline['stages_ms']['cacl']) == {
        'open', 'sample', 'decode', 'shuffle', 'draw', 'format', 'pack'
    }
    assert {'crop/resize', 'jitter',
            'grayscale'} <= set(pipeline['stages_ms']['cacl_per_frame'])
    assert 'flip' in pipeline['stages_ms']['mmaction_one_view']
    assert pipeline['ratio_to_decode_floor']['cacl'] == pytest.approx(
        pipeline['ms_per_clip']['cacl'] /
        pipeline['ms_per_clip']['floor_decord'])
    assert set(pipeline['dataloader']) == {
        f'{p}_{w}_workers'
        for p in ('cacl', 'cacl_per_frame')
        for w in (1, 2)
    }
    assert all(v['clips_per_s'] > 0 and v['first_batch_s'] > 0
               for v in pipeline['dataloader'].values())
    assert 0 < pipeline['worker_restart_share_of_ucf101_epoch'] < 1
    assert pipeline['device_augmentation_ms_per_clip'] > 0
    for key in ('shuffle_us_t16', 'shuffle_us_t32', 'ratio_vs_floor',
                'ratio_vs_no_transformer', 'ratio_naive_over_cacl',
                'ratio_vs_supervised'):
        assert isinstance(report[key], float) and report[key] > 0, key
    assert set(report['step_s']) == {
        'cacl', 'no_transformer', 'naive', 'supervised', 'floor'
    }
    assert all(v > 0 for v in report['step_s'].values())
    assert report['step_s']['floor'] == pytest.approx(
        sum(report['floor_parts_s'].values()))
    assert set(report['peak_mem_mb']) == {
        'cacl', 'no_transformer', 'naive', 'supervised'
    }
    flops = report['flops_per_step']
    # More work, more FLOPs: naive > CACL > no Transformer > supervised.
    assert flops['naive'] > flops['cacl'] > flops['no_transformer'] > flops[
        'supervised'] > 0
    assert report['flops_ratio']['naive_over_cacl'] > 1
    assert set(report['retrieval_search_s']) == {'d512', 'd9216'}
    assert report['device'].startswith('cpu')
    assert 'ratio_vs_floor' in proc.stdout  # the printed table


def test_fed_training_benchmark_on_a_folder_of_videos(tmp_path):
    """--fed-training --video-dir: the step fed by the DataLoader against
    the same step on a batch in memory, on the user's files."""
    from cacl_mm.analysis.pipeline_benchmark import write_ucf101_like_videos
    videos = tmp_path / 'videos'
    videos.mkdir()
    write_ucf101_like_videos(str(videos), 2, size=(64, 48), bit_rate=40_000)
    (videos / 'notes.txt').write_text('not a video')
    out = tmp_path / 'fed.json'
    benchmark_tool = osp.join(REPO, 'tools', 'benchmark.py')
    run([
        sys.executable, benchmark_tool, '--setting', 'tiny', '--device', 'cpu',
        '--fed-training', '--workers', '0', '1', '--steps', '2', '--batch',
        '2', '--video-dir',
        str(videos), '--out',
        str(out)
    ])
    fed = json.load(open(out))['fed_training']
    assert (fed['batch'], fed['steps']) == (2, 2)
    assert fed['in_memory_clips_per_s'] > 0
    # as the Runner would: the tiny config inherits cudnn_benchmark=True
    # from cacl_pretrain_runtime.py's env_cfg (the tool's own default: off)
    assert fed['cudnn_benchmark'] is True
    assert fed['view_augmentation_ms_per_clip'] > 0
    assert set(k for k in fed
               if k.startswith('fed_')) == {'fed_0_workers', 'fed_1_workers'}
    for entry in (fed['fed_0_workers'], fed['fed_1_workers']):
        assert entry['first_step_s'] > 0
        assert entry['over_in_memory'] == pytest.approx(
            entry['clips_per_s'] / fed['in_memory_clips_per_s'])
    assert 'pipeline' not in json.load(open(out))  # only what was asked
    # A folder without videos is refused, named.
    empty = tmp_path / 'empty'
    empty.mkdir()
    proc = run([
        sys.executable, benchmark_tool, '--fed-training', '--video-dir',
        str(empty), '--out',
        str(tmp_path / 'x.json')
    ],
               check=False)
    assert proc.returncode != 0
    assert f'--video-dir {empty}: no .avi' in proc.stderr


def test_benchmark_refuses_amp_without_gpu(tmp_path):
    proc = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'benchmark.py'), '--amp', 'bf16', '--device',
        'cpu', '--out',
        str(tmp_path / 'x.json')
    ],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 2 and 'needs a GPU' in proc.stderr
