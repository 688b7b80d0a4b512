"""CACL performance benchmark: each cost against its own floor (figures only).

    python tools/benchmark.py --setting tiny|paper [--device cpu|cuda] \
        [--batch N] [--amp none|bf16|fp16] [--channels-last] [--pipeline] \
        [--fed-training [--workers N ...] [--steps N]] [--video-dir DIR] \
        --out FILE.json

Measured in one process and run, for one setting:

* ``ShuffleByMED`` microseconds per sample at T = 16 and 32;
* the data pipeline on UCF101-like files (320x240 XVID at 660 kbit/s, 4-10 s,
  textured moving scenes; ``--setting tiny``: 64x48): the decode floor
  (decord; PyAV trusting the header's frame count and counting frames;
  decord resizing inside the decoder), CPU time per clip of each stage of
  the config's
  pipeline, of the per-frame pipeline it replaced and of MMAction2's
  one-view recognition pipeline, the collate, the device-side view
  augmentation, and DataLoader clips/s with 1 and 2 workers
  (``--pipeline`` measures only this);
* training step time of (a) CACL, (b) CACL without the Transformer branch
  (3D-only MoCo + edit-distance head), (c) a naive CACL that runs the frozen
  2D CNN on every clip (original and shuffled) for the online and again for
  the momentum Transformer, as the released code does, (d) a supervised
  ``Recognizer3D`` with the same 3D backbone and clips;
* the floor: the unavoidable parts timed alone (3D forward+backward on the
  online clips, 3D forward on the momentum clips, frozen 2D forward once per
  view, Transformer forward+backward and momentum forward, heads, optimizer
  step + momentum update) and their sum;
* peak memory per variant (RSS growth on CPU, max allocated on GPU), model
  FLOPs per step (torch's ``FlopCounterMode``), achieved FLOP/s and, on a
  known GPU, model FLOPs utilisation;
* retrieval search for a UCF101-sized problem (9537 x 3783, 512-d, 9216-d).

``--fed-training`` measures only whether the accelerator waits for the
data: clips/s of the config's full training step fed by a DataLoader with
``--workers`` processes over the files, against the same step on one batch
held in memory (a ratio of 1.0: it never waits). ``--video-dir`` reads the
files there (yours, or ones written earlier) instead of generating them.
"""
from __future__ import annotations
import argparse
import json
import os
import os.path as osp
import platform
import tempfile

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SETTINGS = dict(
    tiny=dict(
        config='configs/cacl/cacl_tiny_r3d_synthetic.py',
        batch=8,
        video_size=(64, 48)),
    paper=dict(
        config='configs/cacl/r3d_ucf101.py', batch=2, video_size=(320, 240)),
)
#: Dense peak FLOP/s by GPU name and compute dtype (vendor data sheets).


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--setting', choices=sorted(SETTINGS), default='tiny')
    parser.add_argument(
        '--device',
        choices=['cpu', 'cuda'],
        help='default: cuda when available')
    parser.add_argument('--batch', type=int, help='clips per step')
    parser.add_argument(
        '--repeats',
        type=int,
        default=3,
        help='interleaved timing rounds (medians)')
    parser.add_argument(
        '--amp', choices=['none', 'bf16', 'fp16'], default='none')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument(
        '--calls',
        type=int,
        default=20000,
        help='ShuffleByMED draws per measurement')
    parser.add_argument(
        '--videos',
        type=int,
        default=16,
        help='generated UCF101-like videos for the pipeline measurement')
    parser.add_argument(
        '--rounds',
        type=int,
        default=3,
        help='interleaved passes over the videos (pipelines and floors)')
    parser.add_argument(
        '--pipeline',
        action='store_true',
        help='measure only the data pipeline')
    parser.add_argument(
        '--fed-training',
        action='store_true',
        help='measure only the training step fed by the DataLoader against '
        'in-memory data')
    parser.add_argument(
        '--workers',
        type=int,
        nargs='+',
        help='DataLoader workers for --fed-training (default: the '
        "config's train_dataloader.num_workers)")
    parser.add_argument(
        '--steps',
        type=int,
        default=20,
        help='timed training steps per feed (--fed-training)')
    parser.add_argument(
        '--video-dir',
        help='read the videos in DIR (*.avi, *.mp4) instead of generating '
        'UCF101-like ones')
    parser.add_argument(
        '--retrieval-scale',
        type=float,
        default=1.0,
        help='fraction of the UCF101-sized retrieval problem')
    parser.add_argument('--out', default='work_dirs/benchmark.json')
    args = parser.parse_args(argv)
    # torch and cacl_mm load after parsing: --help answers at once.
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import cacl_mm  # noqa: F401
    from cacl_mm.analysis.benchmarking import (bench_retrieval, bench_shuffle,
                                               bench_steps, gpu_peak)
    from cacl_mm.analysis.pipeline_benchmark import (pipeline_report,
                                                     time_fed_training,
                                                     write_ucf101_like_videos)
    if args.device is None:
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if args.amp != 'none' and args.device != 'cuda':
        parser.error('--amp uses mmengine\'s AmpOptimWrapper, which needs a '
                     'GPU: add --device cuda')

    init_default_scope('mmaction')
    setting = SETTINGS[args.setting]
    args.batch = args.batch or (setting['batch']
                                if args.device == 'cpu' else 8)
    device = torch.device(args.device)
    cfg = Config.fromfile(osp.join(REPO, setting['config']))
    report = dict(
        setting=args.setting,
        config=setting['config'],
        device=(torch.cuda.get_device_name(device) if device.type == 'cuda'
                else f'cpu ({platform.processor() or platform.machine()},'
                f' {torch.get_num_threads()} threads)'),
        torch=torch.__version__,
        batch=args.batch,
        amp=args.amp,
        channels_last=args.channels_last)

    with tempfile.TemporaryDirectory() as folder:
        if args.video_dir:
            videos = listed_videos(args.video_dir)
        else:
            print('writing UCF101-like files ...', flush=True)
            videos = write_ucf101_like_videos(
                folder,
                args.videos,
                size=setting['video_size'],
                bit_rate=int(660_000 * setting['video_size'][0] *
                             setting['video_size'][1] / (320 * 240)))
        if args.fed_training:
            workers = args.workers or [cfg.train_dataloader.num_workers]
            print(
                f'training step fed by {workers} workers against in-memory '
                f'data (batch {args.batch}) ...',
                flush=True)
            report['fed_training'] = time_fed_training(cfg, videos, device,
                                                       args.batch, workers,
                                                       args.steps, args.amp,
                                                       args.channels_last)
            return finish(report, args.out)
        print('data pipeline on UCF101-like files ...', flush=True)
        report['pipeline'] = pipeline_report(cfg, videos, args.rounds, device)
    if args.pipeline:
        return finish(report, args.out)

    print('ShuffleByMED ...', flush=True)
    for clip_len in (16, 32):
        stats = bench_shuffle(clip_len, args.calls)
        report[f'shuffle_us_t{clip_len}'] = stats['ours_us']
        report[f'shuffle_released_style_us_t{clip_len}'] = stats[
            'released_style_us']

    print(f'training steps (batch {args.batch}) ...', flush=True)
    steps = bench_steps(cfg, device, args.batch, args.repeats, args.amp,
                        args.channels_last)
    report.update(steps)
    s = steps['step_s']
    report['ratio_vs_floor'] = s['cacl'] / s['floor']
    report['ratio_vs_no_transformer'] = s['cacl'] / s['no_transformer']
    report['ratio_naive_over_cacl'] = s['naive'] / s['cacl']
    report['ratio_vs_supervised'] = s['cacl'] / s['supervised']
    report['clips_per_s'] = {
        k: args.batch / v
        for k, v in s.items() if k != 'floor'
    }
    # The same ratios in model FLOPs: machine-independent, noise-free.
    f = steps['flops_per_step']
    report['flops_ratio'] = dict(
        cacl_over_no_transformer=f['cacl'] / f['no_transformer'],
        naive_over_cacl=f['naive'] / f['cacl'],
        cacl_over_supervised=f['cacl'] / f['supervised'])
    achieved = {k: f / s[k] for k, f in steps['flops_per_step'].items()}
    report['achieved_flops_per_s'] = achieved
    peak = gpu_peak(device, args.amp)
    report['mfu'] = ({
        k: v / peak
        for k, v in achieved.items()
    } if peak else None)

    print('retrieval search ...', flush=True)
    report['retrieval_search_s'] = bench_retrieval(
        device,
        gallery=int(9537 * args.retrieval_scale),
        queries=int(3783 * args.retrieval_scale))
    report['retrieval_problem'] = dict(
        gallery=int(9537 * args.retrieval_scale),
        queries=int(3783 * args.retrieval_scale),
        topk=50)

    return finish(report, args.out)


def listed_videos(folder: str) -> list:
    """The video files directly in ``folder``, sorted; an error naming the
    folder when there are none."""
    if not osp.isdir(folder):
        raise SystemExit(f'--video-dir {folder}: no such folder')
    videos = sorted(
        osp.join(folder, name) for name in os.listdir(folder)
        if name.lower().endswith(('.avi', '.mp4', '.mkv', '.webm')))
    if not videos:
        raise SystemExit(f'--video-dir {folder}: no .avi, .mp4, .mkv or '
                         '.webm files in it')
    return videos


def finish(report: dict, out: str) -> int:
    """Print the table and write the JSON."""
    print_table(report)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(report, f, indent=2)
    print(f'written {out}')
    return 0


def print_table(report: dict) -> None:
    """The figures, flattened, one per line."""

    def rows(prefix: str, value):
        if isinstance(value, dict):
            for key, sub in value.items():
                yield from rows(f'{prefix}.{key}' if prefix else key, sub)
        else:
            yield prefix, value

    print(f"\n{'measure':<52}{'value':>16}")
    for key, value in rows('', report):
        shown = (f'{value:16.4g}'
                 if isinstance(value, float) else f'{value!s:>16}')
        print(f'{key:<52}{shown}')


if __name__ == '__main__':
    raise SystemExit(main())
