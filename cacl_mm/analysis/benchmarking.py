"""Timing, memory and FLOP measurements behind ``tools/benchmark.py``.

Each function measures one thing (a pipeline, a training step variant, the
floor of a step, a retrieval search) and returns plain numbers; the tool
puts them side by side as ratios. Nothing here asserts a speed.
"""
from __future__ import annotations
import copy
import os
import statistics
import threading
import time
from typing import Callable, Dict, Optional

import numpy as np
import torch

from ..utils.hardware import gpu_peak_flops


# ------------------------------------------------------------------ timing
def sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_per_call_us(fn: Callable[[], object],
                     calls: int,
                     repeats: int = 3) -> float:
    """Best-of-``repeats`` mean microseconds per call."""
    best = float('inf')
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls * 1e6)
    return best


class PeakMemory:
    """Peak memory growth over a block: GPU max allocated, else RSS (sampled).

    Around training steps of a built model this is what the steps add on
    top of the weights: activations, gradients and optimizer state.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.peak_mb = 0.

    @staticmethod
    def rss_mb() -> float:
        with open('/proc/self/statm') as f:
            return int(
                f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20

    def __enter__(self) -> 'PeakMemory':
        if self.device.type == 'cuda':
            torch.cuda.reset_peak_memory_stats(self.device)
            self.base = torch.cuda.memory_allocated(self.device) / 2**20
            return self
        self.base = self.rss_mb()
        self.max_rss = self.base
        self._stop = threading.Event()

        def sample():
            while not self._stop.wait(0.005):
                self.max_rss = max(self.max_rss, self.rss_mb())

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.device.type == 'cuda':
            self.peak_mb = torch.cuda.max_memory_allocated(
                self.device) / 2**20 - self.base
            return
        self._stop.set()
        self._thread.join()
        self.max_rss = max(self.max_rss, self.rss_mb())
        self.peak_mb = self.max_rss - self.base


def release_free_memory(device: torch.device) -> None:
    """Return freed memory to the OS / driver, so the next peak starts clean.

    glibc keeps freed heap memory in the process (RSS) after large frees
    raise its mmap threshold; ``malloc_trim`` hands it back.
    """
    import ctypes
    import gc
    gc.collect()
    if device.type == 'cuda':
        torch.cuda.empty_cache()
        return
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):
        pass


def median_seconds(fn: Callable[[], object],
                   device: torch.device,
                   repeats: int,
                   warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ------------------------------------------------------------ ShuffleByMED
def bench_shuffle(clip_len: int, calls: int) -> Dict[str, float]:
    """ShuffleByMED vs the released code's shuffle + DP edit distance."""
    from ..datasets.transforms import ShuffleByMED
    from ..utils.edit_distance import levenshtein

    np.random.seed(0)
    transform = ShuffleByMED()
    results = dict(clip_len=clip_len, num_clips=1)
    transform(results)  # the first buffer refill is not per-sample cost
    ours = time_per_call_us(lambda: transform(results), calls)
    identity = list(range(clip_len))
    rng = np.random.default_rng(0)

    def released_style():
        k = int(rng.integers(0, clip_len + 1))
        order = np.arange(clip_len)
        pos = rng.choice(clip_len, size=k, replace=False)
        order[pos] = rng.permutation(order[pos])
        return levenshtein(identity, order.tolist())

    baseline = time_per_call_us(released_style, max(calls // 10, 100))
    return dict(ours_us=ours, released_style_us=baseline)


# ------------------------------------------------------------------ models
def build_model(cfg_model: dict,
                variant: str,
                device: torch.device,
                channels_last: bool,
                num_classes: int = 101):
    """A model to time: CACL (``variant`` of :data:`VARIANTS`) or, for
    ``'supervised'``, a ``Recognizer3D`` with the same backbone and an
    ``I3DHead`` of ``num_classes`` (the config's train dataset's)."""
    from mmaction.registry import MODELS
    model_cfg = copy.deepcopy(cfg_model)
    model_cfg['channels_last'] = channels_last
    if model_cfg.get('transformer') and not model_cfg['transformer'].get(
            'frame_encoder_checkpoint'):
        # Timing only: a random frozen frame encoder costs the same.
        model_cfg['transformer']['frame_encoder_checkpoint'] = 'random'
    if variant == 'no_transformer':
        model_cfg['contrast_head']['pairs'] = [('cnn_q', 'cnn_k')]
    if variant == 'naive':
        # The released code's 2D passes: every clip and twin, per Transformer.
        model_cfg['share_frame_features'] = False
    if variant == 'supervised':
        backbone = copy.deepcopy(cfg_model['backbone'])
        model = MODELS.build(
            dict(
                type='Recognizer3D',
                backbone=backbone,
                cls_head=dict(
                    type='I3DHead',
                    num_classes=num_classes,
                    in_channels=cfg_model['sdp_head']['in_channels'] // 2),
                data_preprocessor=cfg_model['data_preprocessor']))
    else:
        model = MODELS.build(model_cfg)
    model.init_weights()
    return model.to(device).train()


def make_batch(batch: int, clip_len: int, crop: int, views: int,
               device: torch.device) -> dict:
    """What PackActionInputs + pseudo_collate give the data preprocessor."""
    from mmaction.structures import ActionDataSample
    from ..datasets.transforms import ShuffleByMED
    shuffle = ShuffleByMED(clip_len)
    generator = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for _ in range(batch):
        shape = ((views, 3, clip_len, crop, crop) if views > 1 else
                 (1, 3, clip_len, crop, crop))
        inputs.append(
            torch.randint(
                0, 255, shape, generator=generator,
                dtype=torch.uint8).to(device))
        results = shuffle(dict(clip_len=clip_len))
        sample = ActionDataSample()
        sample.set_field(
            results['shuffle_order'], 'shuffle_order', field_type='metainfo')
        sample.set_field(
            results['med_label'], 'med_label', field_type='metainfo')
        sample.set_gt_label(0)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def build_optim_wrapper(model, amp: str):
    from mmengine.optim import build_optim_wrapper as build

    from ..engine.hooks.finite_gradient_hook import attach_finite_check
    cfg = dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=1e-4))
    if amp != 'none':
        cfg = dict(
            type='AmpOptimWrapper',
            dtype='bfloat16' if amp == 'bf16' else 'float16',
            optimizer=cfg['optimizer'])
    wrapper = build(model, cfg)
    attach_finite_check(wrapper.optimizer, model)  # as FiniteGradientHook
    return wrapper


def train_step_fn(model, optim_wrapper, data) -> Callable[[], None]:
    """One full training step, momentum update and queue write included."""

    def step():
        model.train_step(data, optim_wrapper)
        if hasattr(model, 'after_optimizer_step'):
            model.after_optimizer_step()  # as MoCoQueueHook

    return step


def count_flops(fn: Callable[[], None]) -> float:
    """FLOPs of one call (forward and backward) by torch's counter."""
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return float(counter.get_total_flops())


def floor_parts(model, data: dict, optim_wrapper, device: torch.device,
                amp: str) -> Dict[str, tuple]:
    """The parts of a CACL step, each to be timed alone.

    Every part calls the seam that ``CACL.loss`` calls, on the inputs it
    gets there (``tests/test_performance.py`` checks that the parts run the
    same modules on the same shapes as one ``loss`` call), so the floor
    follows the model: what is left of a step beyond the sum of its parts is
    the glue (data preprocessing, loss parsing, hooks).

    Returns:
        dict: name -> (untimed set-up or None, timed call).
    """
    from ..models import CNN_K, CNN_Q, TRANS_K, TRANS_Q, Arch
    from ..models import stack_sample_field as field
    processed = model.data_preprocessor(data, True)
    inputs, samples = processed['inputs'], processed['data_samples']
    order = field(samples, 'shuffle_order', device)
    labels = field(samples, 'med_label', device)
    views = inputs[:, 0], inputs[:, 1]
    needed = model.contrast_head.needed
    online = model.online_encoder(Arch.CNN)
    momentum = model.momentum_encoder(Arch.CNN)
    trans = model.online_encoder(Arch.TRANSFORMER)
    momentum_trans = model.momentum_encoder(Arch.TRANSFORMER)
    dtype = dict(bf16=torch.bfloat16, fp16=torch.float16).get(amp)

    def autocast():
        return torch.autocast(
            device.type, dtype=dtype, enabled=dtype is not None)

    # Inputs of the later parts, computed once by the same seams.
    with torch.no_grad(), autocast():
        frames = model.twin_frame_features(views, order, needed)
        pairs = online.twin_features(views[0], order).float()
        keys = {
            CNN_K:
            momentum.embed_twins_shuffle_bn(views[1], order,
                                            model.shuffle_bn_splits),
            TRANS_K:
            momentum_trans.embed_twins(frames[TRANS_K])
        }
        trans_q = trans.embed_twins(frames[TRANS_Q]).float()

    def frozen_2d():
        with torch.no_grad(), autocast():
            model.twin_frame_features(views, order, needed)

    def cnn_online():
        with autocast():
            feats = online.twin_features(views[0], order)
        feats.float().sum().backward()

    def cnn_momentum():
        with autocast():
            momentum.embed_twins_shuffle_bn(views[1], order,
                                            model.shuffle_bn_splits)

    def transformer():
        with autocast():
            out = trans.embed_twins(frames[TRANS_Q])
        out.float().sum().backward()
        with torch.no_grad(), autocast():
            momentum_trans.embed_twins(frames[TRANS_K])

    def heads():
        with autocast():
            cnn_in = pairs.clone().requires_grad_()
            trans_in = trans_q.clone().requires_grad_()
            embeddings = {CNN_Q: online.neck(cnn_in), TRANS_Q: trans_in}
            embeddings.update({k: v.float() for k, v in keys.items()})
            losses = model.contrast(embeddings, samples)
            losses.update(model.sdp_head.loss(cnn_in, labels))
        sum(v for k, v in losses.items() if k.startswith('loss')).backward()

    def update():
        optim_wrapper.step()
        optim_wrapper.zero_grad()
        model.after_optimizer_step()  # as MoCoQueueHook

    def with_gradients():
        # The update needs gradients in place and pending keys, as after
        # a backward pass.
        cnn_online()
        transformer()
        heads()

    def clear():
        optim_wrapper.zero_grad()
        model.enqueue_pending_keys()  # keys a timed heads() left behind

    return dict(
        cnn_online_fwd_bwd=(clear, cnn_online),
        cnn_momentum_fwd=(None, cnn_momentum),
        frozen_2d_once_per_view=(None, frozen_2d),
        transformer_fwd_bwd_and_momentum_fwd=(clear, transformer),
        heads=(clear, heads),
        optimizer_step_and_momentum_update=(with_gradients, update))


VARIANTS = ('cacl', 'no_transformer', 'naive', 'supervised')


def bench_steps(cfg,
                device: torch.device,
                batch: int,
                repeats: int,
                amp: str = 'none',
                channels_last: bool = False) -> dict:
    """Step times in interleaved rounds: every variant and floor part once
    per round, medians over rounds, so that drift of a shared machine hits
    all of them alike.

    Args:
        cfg (Config): A CACL pretraining config.
        device (torch.device): Where to time.
        batch (int): Clips per step.
        repeats (int): Rounds.
        amp (str): ``'none'``, ``'bf16'`` or ``'fp16'``.
        channels_last (bool): 3D CNNs in channels-last layout.
    """
    from ..apis.config_utils import crop_size_of, train_dataset_cfg
    clip_len = cfg.model.clip_len
    dataset = train_dataset_cfg(cfg)
    crop = crop_size_of(dataset)
    num_classes = dataset.get('num_classes') or 101
    two_view = make_batch(batch, clip_len, crop, 2, device)
    one_view = make_batch(batch, clip_len, crop, 1, device)
    steps, peak_mb = {}, {}
    for variant in VARIANTS:
        print(f'  building {variant}, first step (memory) ...', flush=True)
        torch.manual_seed(0)
        model = build_model(cfg.model, variant, device, channels_last,
                            num_classes)
        optim_wrapper = build_optim_wrapper(model, amp)
        data = one_view if variant == 'supervised' else two_view
        steps[variant] = (model, optim_wrapper, data,
                          train_step_fn(model, optim_wrapper, data))
        release_free_memory(device)
        with PeakMemory(device) as memory:
            steps[variant][3]()  # also the warm-up
        peak_mb[variant] = memory.peak_mb
    model, optim_wrapper, data, _ = steps['cacl']
    parts = floor_parts(model, data, optim_wrapper, device, amp)
    for setup, fn in parts.values():  # warm-up
        if setup:
            setup()
        fn()
    times = {name: [] for name in [*VARIANTS, *parts]}
    for round_index in range(repeats):
        print(
            f'  round {round_index + 1}/{repeats}: steps and floor '
            'parts ...',
            flush=True)
        for variant in VARIANTS:
            times[variant].append(
                median_seconds(steps[variant][3], device, 1, warmup=0))
        for name, (setup, fn) in parts.items():
            if setup:
                setup()
            times[name].append(median_seconds(fn, device, 1, warmup=0))
    optim_wrapper.zero_grad()
    step_s = {v: statistics.median(times[v]) for v in VARIANTS}
    floor = {name: statistics.median(times[name]) for name in parts}
    step_s['floor'] = sum(floor.values())
    # Last: FlopCounterMode slows the calls that follow it.
    flops = {v: count_flops(steps[v][3]) for v in VARIANTS}
    return dict(
        step_s=step_s,
        floor_parts_s=floor,
        peak_mem_mb=peak_mb,
        flops_per_step=flops,
        clip_len=clip_len,
        crop=crop,
        rounds=repeats,
        round_times_s={
            k: [round(t, 4) for t in v]
            for k, v in times.items()
        })


# --------------------------------------------------------------- retrieval
def bench_retrieval(device: torch.device,
                    dims=(512, 9216),
                    gallery: int = 9537,
                    queries: int = 3783) -> dict:
    """Top-50 cosine search of UCF101 split-1 test videos in the train set."""
    from ..evaluation.retrieval import topk_neighbours
    out = {}
    for dim in dims:
        generator = torch.Generator().manual_seed(dim)
        g = torch.randn(gallery, dim, generator=generator).to(device)
        q = torch.randn(queries, dim, generator=generator).to(device)
        topk_neighbours(q[:64], g, 50)  # warm-up
        out[f'd{dim}'] = median_seconds(
            lambda: topk_neighbours(q, g, 50), device, repeats=3, warmup=0)
    return out


# -------------------------------------------------------------------- main
def gpu_peak(device: torch.device, amp: str) -> Optional[float]:
    if device.type != 'cuda':
        return None
    return gpu_peak_flops(
        torch.cuda.get_device_name(device), 'fp32' if amp == 'none' else amp)
