"""Before a run of hours: a few real iterations of a config, measured.

    python tools/gpu_first_run.py CONFIG [--iters 20] [--warmup 5] \
        [--precision bf16|fp16|fp32] [--work-dir DIR] \
        [--cfg-options KEY=VALUE ...] [--launcher pytorch]
    torchrun --nproc_per_node 8 tools/gpu_first_run.py CONFIG \
        --launcher pytorch ...

Trains ``warmup + iters`` iterations of CONFIG through mmengine's Runner,
on the config's own data and model (every start-up check included: a
missing frame-encoder checkpoint stops it as it would stop the real run),
without checks, checkpoints or lr schedule. Prints and writes
``DIR/first_run.json``: step time, data wait and the share of time spent
waiting for data, clips/s, the workers' start-up wait, model FLOPs per
step, MFU (known GPUs, or ``--peak-tflops``), peak memory, and the hours an
epoch and the config's whole schedule would take.
"""
from __future__ import annotations
import argparse
import sys

from mmengine.config import DictAction


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--iters', type=int, default=20, help='timed')
    parser.add_argument(
        '--warmup', type=int, default=5, help='untimed iterations first')
    parser.add_argument(
        '--precision',
        choices=['bf16', 'fp16', 'fp32'],
        help='default: bf16 on a GPU, fp32 on a CPU')
    parser.add_argument('--work-dir', default='work_dirs/first_run')
    parser.add_argument(
        '--peak-tflops',
        type=float,
        help='dense peak of this GPU in the chosen precision, for the MFU '
        '(known: H100, H200)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='config overrides, as tools/train.py')
    args = parser.parse_args(argv)

    import torch

    from cacl_mm.apis.first_run import first_run, format_first_run
    precision = args.precision or ('bf16'
                                   if torch.cuda.is_available() else 'fp32')
    try:
        result = first_run(args.config, args.work_dir, args.iters, args.warmup,
                           precision, args.cfg_options, args.launcher,
                           args.peak_tflops)
    except ValueError as error:  # the frame encoder, a list, a precision
        print(f'gpu_first_run: error: {error}', file=sys.stderr)
        return 2
    from mmengine.dist import is_main_process
    if is_main_process():
        print(format_first_run(result))
        print(f'written {args.work_dir}/first_run.json')
    return 0


if __name__ == '__main__':
    sys.exit(main())
