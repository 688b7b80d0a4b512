"""Nearest-neighbour video retrieval (R@1/5/10/20/50) of a pretrained backbone.

    python tools/retrieval.py configs/cacl/r3d_ucf101.py \
        work_dirs/r3d/epoch_300.pth
    python tools/retrieval.py CONFIG none      # randomly initialised backbone
    torchrun --nproc_per_node 2 tools/retrieval.py CONFIG CKPT \
        --launcher pytorch

Test-split videos query the train-split gallery; each video is the average of
``--num-clips`` uniformly spaced clips (centre crop), features L2-normalised,
cosine similarity. Writes ``<work-dir>/retrieval.json``.

The run is ``configs/retrieval/video_retrieval.py`` with the model, clips,
lists and seed of CONFIG; the flags and ``--cfg-options`` override its keys.
"""
import argparse
import os.path as osp
import sys

# Only argparse's needs at import time: ``--help`` answers at once, torch
# and mmaction load after the arguments parse.
from mmengine.config import DictAction

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def flag_options(args: argparse.Namespace, work_dir: str) -> dict:
    """The flags given, as overrides of the retrieval config."""
    from cacl_mm.apis.retrieval import RETRIEVAL_KEYS, crop_options

    # features_file has no flag of its own: --save-features sets it below.
    options = {
        key: getattr(args, flag)
        for flag, key in RETRIEVAL_KEYS.items()
        if getattr(args, flag, None) is not None
    }
    if args.crop_size:
        options.update(crop_options(args.crop_size))
    if args.save_features or args.linear_probe:
        options[RETRIEVAL_KEYS['features_file']] = osp.join(
            work_dir, 'retrieval_features.npz')
    return options


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument(
        'checkpoint', help="checkpoint, or 'none' for random init")
    parser.add_argument('--work-dir')
    parser.add_argument(
        '--gallery-list', help='default: the config\'s train list')
    parser.add_argument('--query-list', help='default: its _val_ counterpart')
    parser.add_argument('--video-root')
    parser.add_argument(
        '--num-clips', type=int, help='clips per video '
        '(default 10)')
    parser.add_argument('--clip-len', type=int)
    parser.add_argument('--frame-interval', type=int)
    parser.add_argument('--crop-size', type=int)
    parser.add_argument('--feature', choices=['avg', 'conv5_maxpool'])
    parser.add_argument('--batch-size', type=int)
    parser.add_argument('--num-workers', type=int)
    parser.add_argument(
        '--save-topk',
        type=int,
        help='write each query\'s top-k to retrieval_topk.json')
    parser.add_argument(
        '--save-features',
        action='store_true',
        help='write the features to retrieval_features.npz '
        '(for tools/embedding_map.py)')
    parser.add_argument(
        '--linear-probe',
        action='store_true',
        help='also fit a linear classifier on the frozen '
        'train features and score the test videos '
        '(linear_probe in retrieval.json)')
    parser.add_argument(
        '--prefix',
        help='key prefix of the evaluated '
        "weights in the checkpoint (default: 'backbone.' if "
        "the checkpoint has such keys, '' for a file of "
        "tools/export_backbone.py; 'transformer.' with "
        '--model-key transformer)')
    parser.add_argument(
        '--model-key',
        default='backbone',
        help="model.<key> to evaluate: 'backbone' (the 3D "
        "CNN) or 'transformer' (CACL's Transformer)")
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='overrides of configs/retrieval/'
        'video_retrieval.py (after the flags)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)

    from mmengine.config import Config

    import cacl_mm  # noqa: F401  (compat + registration)
    from cacl_mm.apis import build_retrieval_cfg, run_retrieval
    work_dir = args.work_dir or osp.join(
        'work_dirs',
        osp.splitext(osp.basename(args.config))[0], 'retrieval')
    retrieval_cfg = build_retrieval_cfg(
        osp.join(REPO, 'configs', 'retrieval', 'video_retrieval.py'),
        Config.fromfile(args.config), work_dir, args.model_key, {
            **flag_options(args, work_dir),
            **(args.cfg_options or {})
        })
    prefix = args.prefix
    if prefix is None and args.model_key != 'backbone':
        prefix = f'{args.model_key}.'

    checkpoint = None if args.checkpoint.lower() == 'none' else args.checkpoint
    metrics = run_retrieval(
        retrieval_cfg, checkpoint, prefix, linear_probe=args.linear_probe)
    print(' '.join(f'{k}={v:.4f}' for k, v in metrics.items()
                   if k.startswith('R@')))
    if args.linear_probe:
        print(f"frozen-feature linear probe: test accuracy "
              f"{metrics['linear_probe_top1']:.4f}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
