"""A few real training iterations of a config, measured: the first run.

``tools/gpu_first_run.py`` is its command line. A GPU user runs it before a
run of hours: the config's own data, model and optimizer through mmengine's
Runner (so a missing frame-encoder checkpoint, a broken list or a batch that
does not fit stops it in a minute), for ``warmup + iters`` iterations, and
reads step time, data wait, clips/s, peak memory and model FLOPs
utilisation off the real iterations.
"""
from __future__ import annotations
import json
import os
import os.path as osp
import resource
import statistics
import time
from typing import Dict, List, Optional

import torch
from mmengine.hooks import Hook

from mmaction.registry import HOOKS

#: Precision -> the optimizer wrapper that trains in it.
PRECISIONS = dict(
    fp32=dict(type='OptimWrapper'),
    bf16=dict(type='AmpOptimWrapper', dtype='bfloat16'),
    fp16=dict(type='AmpOptimWrapper', dtype='float16', loss_scale='dynamic'))


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


@HOOKS.register_module()
class FirstRunProbeHook(Hook):
    """Times each training iteration; counts the FLOPs of the first.

    The first iteration runs under torch's ``FlopCounterMode`` (model FLOPs
    of forward and backward, the momentum update not included); it and the
    next ``warmup - 1`` are left out of the timings.

    Args:
        warmup (int): Iterations not timed (at least 1).
    """

    priority = 'VERY_LOW'

    def __init__(self, warmup: int = 1) -> None:
        self.warmup = max(warmup, 1)
        self.step_seconds: List[float] = []
        self.data_seconds: List[float] = []
        self.flops: Optional[float] = None
        self._counter = None
        self._wait_start = None

    def before_train(self, runner) -> None:
        self._wait_start = time.perf_counter()

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        waited = time.perf_counter() - self._wait_start
        if runner.iter == 0:
            from torch.utils.flop_counter import FlopCounterMode
            self._counter = FlopCounterMode(display=False)
            self._counter.__enter__()
        elif runner.iter >= self.warmup:
            self.data_seconds.append(waited)
        _sync()
        self._step_start = time.perf_counter()

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        _sync()
        seconds = time.perf_counter() - self._step_start
        if self._counter is not None:
            self._counter.__exit__(None, None, None)
            self.flops = float(self._counter.get_total_flops())
            self._counter = None
        elif runner.iter >= self.warmup:
            self.step_seconds.append(seconds)
        self._wait_start = time.perf_counter()


def worker_startup_seconds(dataloader) -> float:
    """Seconds to the first batch of fresh workers: what each epoch waits
    at its start with ``persistent_workers=False``."""
    start = time.perf_counter()
    iterator = iter(dataloader)
    next(iterator)
    seconds = time.perf_counter() - start
    del iterator
    return seconds


def peak_memory_gib() -> Dict[str, float]:
    """GPU max allocated and reserved, or the process's peak RSS."""
    if torch.cuda.is_available():
        return dict(
            gpu_max_allocated_gib=torch.cuda.max_memory_allocated() / 2**30,
            gpu_max_reserved_gib=torch.cuda.max_memory_reserved() / 2**30)
    return dict(
        cpu_peak_rss_gib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss /
        2**20)


def peak_flops(precision: str,
               override_tflops: Optional[float]) -> Optional[float]:
    """Dense peak FLOP/s of this GPU in ``precision`` (None if unknown)."""
    if override_tflops:
        return override_tflops * 1e12
    if not torch.cuda.is_available():
        return None
    from ..utils.hardware import gpu_peak_flops
    return gpu_peak_flops(torch.cuda.get_device_name(), precision)


def first_run_cfg(cfg, work_dir: str, iters: int, warmup: int, precision: str):
    """A config (mmengine ``Config``, changed in place) made to train
    ``warmup + iters`` iterations and stop.

    Data, model and optimizer stay the config's; the schedule becomes an
    iteration loop without a representation check, checkpoint or lr
    schedule, and the optimizer wrapper trains in ``precision``.
    """
    total = warmup + iters
    cfg.work_dir = work_dir
    cfg.load_from, cfg.resume = None, False
    cfg.train_cfg = dict(
        type='IterBasedTrainLoop', max_iters=total, val_interval=total + 1)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.param_scheduler = None
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.log_processor = dict(type='LogProcessor', by_epoch=False)
    wrapper = dict(cfg.optim_wrapper)
    wrapper.pop('type', None)
    for key in ('dtype', 'loss_scale'):
        wrapper.pop(key, None)
    cfg.optim_wrapper = dict(wrapper, **PRECISIONS[precision])
    cfg.custom_hooks = list(cfg.get(
        'custom_hooks', [])) + [dict(type='FirstRunProbeHook', warmup=warmup)]
    return cfg


def first_run(config: str,
              work_dir: str,
              iters: int = 20,
              warmup: int = 5,
              precision: str = 'bf16',
              cfg_options: Optional[dict] = None,
              launcher: str = 'none',
              peak_tflops: Optional[float] = None) -> dict:
    """Train ``warmup + iters`` iterations of ``config``; what they cost.

    Returns:
        dict: Also written to ``<work_dir>/first_run.json``: median step
        time and data wait (seconds), clips/s of the whole job, the
        workers' start-up wait, peak memory, model FLOPs per step, MFU,
        and the time an epoch and the config's whole schedule would take.
    """
    from mmengine.dist import get_world_size, is_main_process
    from mmengine.runner import Runner

    import cacl_mm  # noqa: F401  (compat + registration)
    if precision not in PRECISIONS:
        raise ValueError(f'precision must be one of {sorted(PRECISIONS)}')
    if precision != 'fp32' and not torch.cuda.is_available():
        raise ValueError(f'--precision {precision} needs a GPU (mmengine\'s '
                         'AmpOptimWrapper); use --precision fp32 here')
    if iters < 1:
        raise ValueError('iters must be at least 1')
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    epochs = cfg.train_cfg.get('max_epochs')  # before the loop is replaced
    cfg = first_run_cfg(cfg, work_dir, iters, warmup, precision)
    cfg.launcher = launcher
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    runner = Runner.from_cfg(cfg)
    runner.train()
    startup = worker_startup_seconds(runner.train_dataloader)
    probe = next(h for h in runner.hooks if isinstance(h, FirstRunProbeHook))
    step = statistics.median(probe.step_seconds)
    wait = statistics.median(probe.data_seconds)
    clips = cfg.train_dataloader.batch_size * get_world_size()
    steps_per_epoch = len(runner.train_dataloader)
    peak = peak_flops(precision, peak_tflops)
    result = dict(
        config=config,
        precision=precision,
        device=torch.cuda.get_device_name()
        if torch.cuda.is_available() else 'cpu',
        world_size=get_world_size(),
        clips_per_step=clips,
        timed_iterations=len(probe.step_seconds),
        step_seconds=step,
        data_wait_seconds=wait,
        clips_per_second=clips / (step + wait),
        gpu_waits_for_data=wait / (step + wait),
        worker_startup_seconds=startup,
        flops_per_step=probe.flops,
        mfu=None if peak is None or not probe.flops else probe.flops / step /
        peak,
        steps_per_epoch=steps_per_epoch,
        epoch_hours=steps_per_epoch * (step + wait) / 3600,
        schedule_epochs=epochs,
        schedule_hours=None if not epochs else epochs * steps_per_epoch *
        (step + wait) / 3600,
        **peak_memory_gib())
    if is_main_process():
        os.makedirs(work_dir, exist_ok=True)
        with open(osp.join(work_dir, 'first_run.json'), 'w') as f:
            json.dump(result, f, indent=2)
    return result


def format_first_run(result: dict) -> str:
    """The figures as lines a user reads."""

    def fmt(value, spec):
        return '-' if value is None else format(value, spec)

    memory = ', '.join(f'{k} {v:.2f}' for k, v in result.items()
                       if k.endswith('_gib'))
    return '\n'.join([
        f"{result['config']} on {result['device']} x "
        f"{result['world_size']}, {result['precision']}, "
        f"{result['clips_per_step']} clips per step "
        f"({result['timed_iterations']} timed iterations)",
        f"  step {result['step_seconds']:.3f} s + data wait "
        f"{result['data_wait_seconds']:.3f} s -> "
        f"{result['clips_per_second']:.1f} clips/s "
        f"(waiting for data {100 * result['gpu_waits_for_data']:.0f}%)",
        f"  worker start-up {fmt(result['worker_startup_seconds'], '.2f')} s "
        '(once per epoch with persistent_workers=False)',
        f"  model FLOPs per step {fmt(result['flops_per_step'], '.3e')}, "
        f"MFU {fmt(result['mfu'], '.1%')}",
        f'  peak memory (GiB): {memory}',
        f"  an epoch ({result['steps_per_epoch']} steps) "
        f"{result['epoch_hours']:.2f} h; the schedule "
        f"({fmt(result['schedule_epochs'], 'd')} epochs) "
        f"{fmt(result['schedule_hours'], '.1f')} h, checks not included",
    ])
