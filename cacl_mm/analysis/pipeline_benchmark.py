"""The data pipeline against its decode floor, on UCF101-like files.

Behind ``tools/benchmark.py --pipeline``. Everything is measured in one
process and one run, interleaved over rounds, as CPU time of the process
(``time.process_time``: what a data worker spends, whatever else the
machine runs):

* the decode floor: opening a file and decoding only the frames a clip
  needs, with decord (by path) and with PyAV;
* each stage of a pipeline (open, sample, decode, shuffle, crop/resize,
  flip, jitter, grayscale, format, pack, draw) per clip, for the config's
  pipeline, the per-frame pipeline it replaced and MMAction2's one-view
  recognition pipeline;
* the collate of a batch, and the device-side view augmentation
  (``ViewAugmentDataPreprocessor``) per clip on the given device;
* the DataLoader's clips/s with 1 and 2 workers;
* whether the accelerator waits: the full training step fed by the
  DataLoader against the same step on a batch held in memory
  (``time_fed_training``, ``tools/benchmark.py --fed-training``).

Nothing here asserts a speed; ``tools/benchmark.py`` writes the figures.
"""
from __future__ import annotations
import collections
import copy
import functools
import os.path as osp
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

#: UCF101's videos: 320x240 XVID at 25 fps, about 0.5-0.7 Mbit/s, 4-10 s.
UCF101_LIKE = dict(
    width=320, height=240, fps=25, bit_rate=660_000, seconds=(4.0, 10.0))

#: Stage of each transform type, as the report names them.
STAGES = {
    'DecordInit': 'open',
    'SampleFrames': 'sample',
    'DecordDecode': 'decode',
    'ShuffleByMED': 'shuffle',
    'Resize': 'crop/resize',
    'RandomResizedCrop': 'crop/resize',
    'Flip': 'flip',
    'FormatShape': 'format',
    'PackActionInputs': 'pack',
    'DrawViewAugmentations': 'draw',
}


def write_ucf101_like_videos(
        folder: str,
        count: int,
        seed: int = 0,
        size: Tuple[int, int] = (320, 240),
        bit_rate: int = UCF101_LIKE['bit_rate']) -> List[str]:
    """UCF101-like files: textured moving scenes, XVID at UCF101's bitrate.

    The motion benchmark's renderer (busy texture, camera pan, noise) at
    width x width, cropped to ``size`` (w, h), 4-10 s at 25 fps, encoded by
    PyAV's MPEG-4 Part 2 encoder tagged XVID at ``bit_rate`` (UCF101's
    660 kbit/s at 320x240) with a 12-frame GOP.

    Returns:
        list[str]: the paths, ``v_NN.avi``.
    """
    import av

    from ..datasets.motion_benchmark.render import group_nuisance, render_video
    from ..datasets.motion_benchmark.spec import CLASSES, BenchmarkSpec
    spec_rng = np.random.default_rng(seed)
    width, height = size
    top = (width - height) // 2
    paths = []
    for index in range(count):
        seconds = spec_rng.uniform(*UCF101_LIKE['seconds'])
        spec = BenchmarkSpec(
            size=width,
            num_frames=int(seconds * UCF101_LIKE['fps']),
            fps=UCF101_LIKE['fps'],
            texture='busy',
            camera_motion=0.5,
            seed=seed)
        frames = render_video(CLASSES[index % len(CLASSES)],
                              np.random.default_rng([seed, index]),
                              group_nuisance(spec, 1 + index % 5), spec)
        frames = frames[:, top:top + height]
        path = osp.join(folder, f'v_{index:02d}.avi')
        with av.open(path, 'w') as container:
            stream = container.add_stream('mpeg4', rate=UCF101_LIKE['fps'])
            stream.width, stream.height = width, height
            stream.pix_fmt = 'yuv420p'
            stream.bit_rate = bit_rate
            stream.codec_context.gop_size = 12
            stream.codec_context.codec_tag = 'XVID'
            for frame in frames:
                container.mux(
                    stream.encode(
                        av.VideoFrame.from_ndarray(frame, format='bgr24')))
            container.mux(stream.encode())
        paths.append(path)
    return paths


def video_bitrates_kbps(paths: Sequence[str]) -> List[float]:
    """Mean bitrate of each file, kbit/s."""
    import decord
    rates = []
    for path in paths:
        reader = decord.VideoReader(path)
        seconds = len(reader) / reader.get_avg_fps()
        rates.append(osp.getsize(path) * 8 / seconds / 1e3)
    return rates


# ----------------------------------------------------------------- floors
def clip_indices(num_frames: int, clip_len: int, frame_interval: int,
                 rng: np.random.Generator) -> List[int]:
    """The frames one training clip reads, at a random start."""
    span = (clip_len - 1) * frame_interval + 1
    start = int(rng.integers(0, max(num_frames - span, 0) + 1))
    return list(range(start, start + span, frame_interval))


def decode_decord(path: str,
                  clip_len: int,
                  frame_interval: int,
                  rng: np.random.Generator,
                  size: Optional[Tuple[int, int]] = None) -> np.ndarray:
    """Open by path, decode the clip's frames: (T, H, W, 3) RGB.

    ``size`` (w, h): decord resizes inside the decoder (the lever of
    resizing before the pipeline's ``Resize``).
    """
    import decord
    kwargs = dict(width=size[0], height=size[1]) if size else {}
    reader = decord.VideoReader(path, num_threads=1, **kwargs)
    frames = clip_indices(len(reader), clip_len, frame_interval, rng)
    return reader.get_batch(frames).asnumpy()


def decode_pyav(path: str,
                clip_len: int,
                frame_interval: int,
                rng: np.random.Generator,
                count_frames: bool = False) -> np.ndarray:
    """PyAV: open by path, seek to the keyframe before the clip, decode to
    its last frame: (T, H, W, 3) RGB, the same frames as decord's.

    A frame's index is its timestamp times the frame rate. The video's
    length is its header's (``stream.frames``) unless ``count_frames``,
    which counts the packets as decord's index does: a header can
    over-state the length (tests/test_reliability.py has one that claims
    100 frames for 4), and a clip sampled past the real end fails.
    """
    import av
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = 'NONE'  # one core, as a data worker
        total = stream.frames
        if count_frames:
            total = sum(1 for packet in container.demux(stream) if packet.size)
        rate, base = stream.average_rate, stream.time_base
        frames = clip_indices(total, clip_len, frame_interval, rng)
        wanted = set(frames)
        container.seek(int(frames[0] / rate / base), stream=stream)
        out = []
        for frame in container.decode(stream):
            index = int(round(float(frame.pts * base * rate)))
            if index in wanted:
                out.append(frame.to_ndarray(format='rgb24'))
            if index >= frames[-1]:
                break
    return np.stack(out)


# ----------------------------------------------------------------- stages
class StageClock:
    """CPU time per stage of a pipeline, accumulated over calls.

    Wraps each transform of an mmcv ``Compose`` (and of the transforms
    inside ``MultiViewClip`` / ``RandomApply``), so that the pipeline runs
    as built and each stage's share is its own.
    """

    def __init__(self) -> None:
        self.seconds: Dict[str, float] = collections.defaultdict(float)

    def stage_of(self, transform) -> str:
        name = type(transform).__name__
        if name == 'RandomApply':
            jitter = transform.transforms.transforms[0]
            return ('grayscale'
                    if tuple(jitter.saturation) == (0., 0.) else 'jitter')
        return STAGES.get(name, name)

    def wrap(self, transform, own: bool = True) -> None:
        """Time ``transform``; its inner transforms are timed as theirs."""
        inner = getattr(transform, 'pipeline', None)
        if type(transform).__name__ == 'MultiViewClip':
            for view_transform in inner.transforms:
                self.wrap(view_transform)
            own = False  # its time is its views' stages
        if not own:
            return
        stage = self.stage_of(transform)
        call = transform.transform
        seconds = self.seconds

        def timed(results):
            start = time.process_time()
            out = call(results)
            seconds[stage] += time.process_time() - start
            return out

        transform.transform = timed

    def wrap_all(self, compose) -> None:
        for transform in compose.transforms:
            self.wrap(transform)


def build_pipeline(transforms: List[dict]):
    """An mmcv ``Compose`` of ``transforms`` from mmaction's registry."""
    from mmcv.transforms import Compose

    from mmaction.registry import TRANSFORMS
    return Compose([TRANSFORMS.build(copy.deepcopy(t)) for t in transforms])


def video_info(path: str) -> dict:
    return dict(filename=path, label=0, start_index=0, modality='RGB')


def time_pipelines(pipelines: Dict[str, List[dict]],
                   videos: Sequence[str],
                   clip_len: int,
                   frame_interval: int,
                   rounds: int,
                   resized_size: Tuple[int, int],
                   seed: int = 0) -> Dict[str, dict]:
    """Per-clip CPU time of each pipeline, its stages and the floors.

    The pipelines and the two decode floors run interleaved, video by
    video, for ``rounds`` passes, so that drift on the machine reaches
    them alike.

    Returns:
        dict: per name, ``ms_per_clip`` (median over rounds),
        ``stages_ms`` (mean per clip) and, for the floors, their name.
    """
    clocks = {name: StageClock() for name in pipelines}
    built = {}
    for name, transforms in pipelines.items():
        built[name] = build_pipeline(transforms)
        clocks[name].wrap_all(built[name])
    floors: Dict[str, Callable] = dict(
        floor_decord=decode_decord,
        floor_decord_resized=functools.partial(
            decode_decord, size=resized_size),
        floor_pyav=decode_pyav,
        floor_pyav_counted=functools.partial(decode_pyav, count_frames=True))
    names = list(built) + list(floors)
    per_round = {name: [] for name in names}
    np.random.seed(seed)
    rng = np.random.default_rng(seed)
    for name in built:  # warm decoders, allocators and caches
        built[name](video_info(videos[0]))
    for name in clocks:
        clocks[name].seconds.clear()
    for _ in range(rounds):
        spent = dict.fromkeys(names, 0.0)
        for position, path in enumerate(videos):
            # each video starts with another pipeline: no order bias
            shift = position % len(names)
            for name in names[shift:] + names[:shift]:
                start = time.process_time()
                if name in built:
                    built[name](video_info(path))
                else:
                    floors[name](path, clip_len, frame_interval, rng)
                spent[name] += time.process_time() - start
        for name in names:
            per_round[name].append(1e3 * spent[name] / len(videos))
    clips = rounds * len(videos)
    report = {}
    for name in names:
        entry = dict(ms_per_clip=statistics.median(per_round[name]))
        if name in clocks:
            entry['stages_ms'] = {
                stage: 1e3 * seconds / clips
                for stage, seconds in clocks[name].seconds.items()
            }
        report[name] = entry
    return report


def real_samples(pipeline: List[dict], videos: Sequence[str],
                 batch: int) -> list:
    """``batch`` samples of ``pipeline`` over ``videos`` (cycled)."""
    compose = build_pipeline(pipeline)
    return [compose(video_info(videos[i % len(videos)])) for i in range(batch)]


def time_collate(pipeline: List[dict], videos: Sequence[str],
                 batch: int) -> float:
    """CPU ms per clip of mmengine's ``pseudo_collate`` on real samples."""
    from mmengine.dataset import pseudo_collate
    samples = real_samples(pipeline, videos, batch)
    start = time.process_time()
    repeats = 20
    for _ in range(repeats):
        pseudo_collate(samples)
    return 1e3 * (time.process_time() - start) / (repeats * batch)


def time_device_augmentation(pipeline: List[dict], preprocessor_cfg: dict,
                             videos: Sequence[str], batch: int,
                             device: torch.device) -> float:
    """ms per clip of ``ViewAugmentDataPreprocessor`` on ``device``.

    Wall time, synchronised: on a GPU this is the accelerator's time, on a
    CPU the main process's.
    """
    from mmengine.dataset import pseudo_collate

    from mmaction.registry import MODELS
    data = pseudo_collate(real_samples(pipeline, videos, batch))
    preprocessor = MODELS.build(copy.deepcopy(preprocessor_cfg)).to(device)

    def run():
        preprocessor(copy.copy(data), training=True)
        if device.type == 'cuda':
            torch.cuda.synchronize(device)

    run()
    repeats = 5
    start = time.perf_counter()
    for _ in range(repeats):
        run()
    return 1e3 * (time.perf_counter() - start) / (repeats * batch)


class _VideoList(torch.utils.data.Dataset):

    def __init__(self, pipeline: List[dict], videos: Sequence[str],
                 length: int) -> None:
        self.pipeline = pipeline
        self.videos = list(videos)
        self.length = length
        self.compose = None

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict:
        if self.compose is None:  # built in the worker
            self.compose = build_pipeline(self.pipeline)
        return self.compose(video_info(self.videos[index % len(self.videos)]))


def video_loader(pipeline: List[dict],
                 videos: Sequence[str],
                 workers: int,
                 batch: int,
                 batches: int,
                 pin_memory: bool = False) -> torch.utils.data.DataLoader:
    """``batches`` batches of ``pipeline`` over ``videos`` (cycled), from
    ``workers`` processes started afresh, as ``persistent_workers=False``
    training starts them every epoch."""
    from mmengine.dataset import pseudo_collate
    return torch.utils.data.DataLoader(
        _VideoList(pipeline, videos, batch * batches),
        batch_size=batch,
        num_workers=workers,
        collate_fn=pseudo_collate,
        pin_memory=pin_memory,
        persistent_workers=False)


def time_dataloader(pipeline: List[dict], videos: Sequence[str], workers: int,
                    batch: int, batches: int) -> dict:
    """A DataLoader's start and pace, as training sees them.

    Returns:
        dict: ``first_batch_s`` (start the workers, deliver one batch: what
        ``persistent_workers=False`` pays at every epoch) and
        ``clips_per_s`` after it.
    """
    loader = video_loader(pipeline, videos, workers, batch, batches + 1)
    start = time.perf_counter()
    iterator = iter(loader)
    next(iterator)
    first = time.perf_counter() - start
    start = time.perf_counter()
    count = 0
    for data in iterator:
        count += len(data['inputs'])
    return dict(
        first_batch_s=first, clips_per_s=count / (time.perf_counter() - start))


# ----------------------------------------------------------------- report
def per_frame_equivalent(pipeline: List[dict]) -> Optional[List[dict]]:
    """The pipeline as it was before ``DrawViewAugmentations``.

    ``DrawViewAugmentations`` becomes MMAction2's per-view transforms in
    ``MultiViewClip``, and
    ``PackActionInputs`` no longer packs ``view_augmentations``. None when
    the pipeline has no ``DrawViewAugmentations``.
    """
    from mmaction.registry import TRANSFORMS
    out, found = [], False
    for transform in copy.deepcopy(pipeline):
        kind = transform.get('type')
        if kind == 'DrawViewAugmentations':
            found = True
            out += TRANSFORMS.build(transform).per_frame_pipeline()
        elif kind == 'FormatShape' and found:
            continue  # each view ends in its own FormatShape
        elif kind == 'PackActionInputs':
            keys = tuple(
                k for k in transform.get('algorithm_keys', ())
                if k != 'view_augmentations')
            out.append(dict(transform, algorithm_keys=keys))
        else:
            out.append(transform)
    return out if found else None


def one_view_pipeline(clip_len: int, frame_interval: int, short_side: int,
                      crop: int) -> List[dict]:
    """MMAction2's one-view recognition training pipeline."""
    return [
        dict(type='DecordInit'),
        dict(
            type='SampleFrames',
            clip_len=clip_len,
            frame_interval=frame_interval,
            num_clips=1),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(-1, short_side)),
        dict(type='RandomResizedCrop'),
        dict(type='Resize', scale=(crop, crop), keep_ratio=False),
        dict(type='Flip', flip_ratio=0.5),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs'),
    ]


def pipeline_report(cfg,
                    videos: Sequence[str],
                    rounds: int,
                    device: torch.device,
                    batch: int = 8,
                    loader_batches: int = 6) -> dict:
    """Every figure of the pipeline benchmark for ``cfg``'s train pipeline.

    Args:
        cfg (Config): a CACL config whose train pipeline uses
            ``DrawViewAugmentations`` and whose model uses
            ``ViewAugmentDataPreprocessor``.
        videos (list[str]): the files to read.
        rounds (int): interleaved passes over ``videos``.
        device (torch.device): where the view augmentation is timed.

    Returns:
        dict: floors, per-pipeline times and stages, ratios, collate,
        device-side augmentation and DataLoader clips/s.
    """
    from ..apis.config_utils import find_transform, train_dataset_cfg
    dataset = train_dataset_cfg(cfg)
    pipeline = list(dataset.pipeline)
    per_frame = per_frame_equivalent(pipeline)
    if per_frame is None:
        raise ValueError('the pipeline benchmark needs a train pipeline with '
                         'DrawViewAugmentations')
    sampler = find_transform(dataset, 'SampleFrames')
    draw = find_transform(dataset, 'DrawViewAugmentations')
    clip_len, interval = sampler['clip_len'], sampler['frame_interval']
    out_size = draw.get('out_size', 112)
    crop = out_size if isinstance(out_size, int) else out_size[0]
    short = (min(draw['resize_scale']) if draw.get('resize_scale') else None)
    short = max(draw['resize_scale']) if short == -1 else short
    pipelines = dict(
        cacl=pipeline,
        cacl_per_frame=per_frame,
        mmaction_one_view=one_view_pipeline(
            clip_len, interval, short or int(round(crop * 128 / 112)), crop))
    import decord
    height, width = decord.VideoReader(videos[0])[0].shape[:2]
    scale = (short or crop) / min(height, width)
    resized = (int(width * scale + 0.5), int(height * scale + 0.5))
    times = time_pipelines(pipelines, videos, clip_len, interval, rounds,
                           resized)
    floor = times['floor_decord']['ms_per_clip']
    ms = {name: entry['ms_per_clip'] for name, entry in times.items()}
    report = dict(
        videos=dict(
            count=len(videos),
            kbit_per_s=statistics.mean(video_bitrates_kbps(videos))),
        ms_per_clip=ms,
        stages_ms={
            name: entry['stages_ms']
            for name, entry in times.items() if 'stages_ms' in entry
        },
        ratio_to_decode_floor={name: ms[name] / floor
                               for name in pipelines},
        # against the cheapest decode measured, whichever decoder
        cacl_to_lowest_floor=ms['cacl'] /
        min(ms[name] for name in ms if name.startswith('floor_')),
        # the decoder levers: PyAV trusting the header, and counting frames;
        # decord resizing to the short side inside the decoder
        decord_resized_over_decord_floor=ms['floor_decord_resized'] / floor,
        pyav_over_decord_floor=ms['floor_pyav'] / floor,
        pyav_counted_over_decord_floor=ms['floor_pyav_counted'] / floor,
        # clips/s of one process, relative to MMAction2's one-view pipeline
        throughput_vs_one_view={
            name: ms['mmaction_one_view'] / ms[name]
            for name in ('cacl', 'cacl_per_frame')
        },
        collate_ms_per_clip={
            name: time_collate(pipelines[name], videos, batch)
            for name in ('cacl', 'cacl_per_frame')
        },
        device_augmentation_ms_per_clip=time_device_augmentation(
            pipeline, cfg.model.data_preprocessor, videos, batch, device),
        device=str(device),
        dataloader={
            f'{name}_{workers}_workers':
            time_dataloader(pipelines[name], videos, workers, batch,
                            loader_batches)
            for name in ('cacl', 'cacl_per_frame')
            for workers in (1, 2)
        })
    # persistent_workers=False restarts the workers every epoch (exact
    # resume, EpochSeedHook): that start as a share of a UCF101 split-1
    # epoch (9537 clips) read at the same pace
    loader = report['dataloader']['cacl_2_workers']
    report['worker_restart_share_of_ucf101_epoch'] = loader[
        'first_batch_s'] / (9537 / loader['clips_per_s'])
    return report


# ------------------------------------------------ the step, fed or not
def time_fed_training(cfg,
                      videos: Sequence[str],
                      device: torch.device,
                      batch: int,
                      workers: Sequence[int],
                      steps: int = 20,
                      amp: str = 'none',
                      channels_last: bool = False) -> dict:
    """Whether the accelerator waits for the data: the full training step
    fed by a DataLoader over ``videos`` against the same step on one batch
    held in memory.

    Both feeds run ``cfg``'s CACL model (its ``ViewAugmentDataPreprocessor``
    included) through ``train_step`` with the momentum update, so they
    differ only in where the batch comes from: the held batch is the
    collate of real samples, re-sent from host memory at every step (the
    host-to-device copy stays in); the fed one comes from ``workers``
    processes running the config's train pipeline, ``pin_memory`` on a GPU
    as in the configs, and cuDNN's autotuner as the config's
    ``env_cfg.cudnn_benchmark`` sets it for the Runner. Each DataLoader is
    started and its first batch taken before the clock starts, so the ratio
    is the steady state.

    Args:
        cfg (Config): a CACL config whose train pipeline uses
            ``DrawViewAugmentations``.
        videos (list[str]): the files the workers read (cycled).
        device (torch.device): where the model runs.
        batch (int): clips per step.
        workers (list[int]): DataLoader worker counts to measure.
        steps (int): timed steps per feed.
        amp (str): ``'none'``, ``'bf16'`` or ``'fp16'``.
        channels_last (bool): 3D CNNs in channels-last layout.

    Returns:
        dict: ``in_memory_clips_per_s``, ``view_augmentation_ms_per_clip``
        (the preprocessor alone, :func:`time_device_augmentation`), and per
        worker count
        ``fed_{n}_workers``: ``clips_per_s`` and ``over_in_memory``
        (1.0: the accelerator never waits for data).
    """
    from mmengine.dataset import pseudo_collate

    from ..apis.config_utils import train_dataset_cfg
    from .benchmarking import (build_model, build_optim_wrapper, sync,
                               train_step_fn)
    pipeline = list(train_dataset_cfg(cfg).pipeline)
    held = pseudo_collate(real_samples(pipeline, videos, batch))
    pin = device.type == 'cuda'
    if pin:
        held['inputs'] = [clip.pin_memory() for clip in held['inputs']]
    # as the Runner sets it from the config (the paper configs: True)
    cudnn_benchmark = bool(cfg.get('env_cfg', {}).get('cudnn_benchmark'))
    torch.backends.cudnn.benchmark = cudnn_benchmark
    torch.manual_seed(0)
    model = build_model(cfg.model, 'cacl', device, channels_last)
    optim_wrapper = build_optim_wrapper(model, amp)

    def timed(feed) -> float:
        """Clips/s of ``steps`` training steps, each on ``next(feed)``."""
        sync(device)
        start = time.perf_counter()
        for _ in range(steps):
            train_step_fn(model, optim_wrapper, next(feed))()
        sync(device)
        return steps * batch / (time.perf_counter() - start)

    def repeat_held():
        while True:
            yield copy.copy(held)  # a fresh dict per step, as a DataLoader's

    warm_up = repeat_held()
    for _ in range(3):  # kernels chosen, memory pools grown
        train_step_fn(model, optim_wrapper, next(warm_up))()
    report = dict(
        batch=batch,
        steps=steps,
        cudnn_benchmark=cudnn_benchmark,
        in_memory_clips_per_s=timed(repeat_held()),
        view_augmentation_ms_per_clip=time_device_augmentation(
            pipeline, cfg.model.data_preprocessor, videos, batch, device))

    for count in workers:
        loader = video_loader(pipeline, videos, count, batch, steps + 1, pin)
        feed = iter(loader)
        start = time.perf_counter()
        train_step_fn(model, optim_wrapper, next(feed))()
        sync(device)
        first = time.perf_counter() - start
        clips_per_s = timed(feed)
        report[f'fed_{count}_workers'] = dict(
            first_step_s=first,
            clips_per_s=clips_per_s,
            over_in_memory=clips_per_s / report['in_memory_clips_per_s'])
        del feed, loader
    return report
