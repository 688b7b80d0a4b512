"""How much of the edit distance do a frozen backbone's features carry?

    python tools/sdp_readout.py CONFIG CHECKPOINT --work-dir DIR \
        [--cfg-options model.backbone.out_indices="(2,3)" ...]
    python tools/sdp_readout.py CONFIG none ...   # randomly initialised

Freezes the model of CONFIG (CHECKPOINT loaded strictly), encodes each
train-list video under ``--train-draws`` shuffles and each held-out video
under ``--heldout-draws`` shuffles (``ShuffleByMED`` seeds 0, 1, ... on the
held-out list alone, so not the twins ``tools/evaluate.py`` draws on its
gallery + query dataset), and fits a fresh edit-distance head on
each input a head could read: the pooled difference (the default head),
slot-by-slot alignment of every backbone output stage with a time axis
(``out_indices`` sets which), and the alignment of the input frames
themselves. The pretrained head is scored on the same held-out pairs. When
every readout stays near the pretrained head, the head is capped by its
input, not by its training.

Data: the config's ``test_dataloader`` (its pipeline must hold
``ShuffleByMED``); the lists default to its gallery (train) and query
(held-out) lists. Writes ``DIR/sdp_readout.json``.
"""
from __future__ import annotations
import argparse
import json
import os
import os.path as osp
import sys

from mmengine.config import DictAction

from _cli import USER_ERRORS


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument(
        'checkpoint', help="checkpoint, or 'none' for random init")
    parser.add_argument('--work-dir', required=True)
    parser.add_argument(
        '--train-list',
        help='videos the readouts learn from (default: the '
        "test dataloader's gallery_ann_file)")
    parser.add_argument(
        '--heldout-list',
        help='videos they are scored on (default: its '
        'query_ann_file)')
    parser.add_argument('--video-root', help='data_prefix.video')
    parser.add_argument('--train-draws', type=int, default=10)
    parser.add_argument('--heldout-draws', type=int, default=5)
    parser.add_argument('--epochs', type=int, default=100)
    parser.add_argument('--hidden-channels', type=int, default=64)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='config overrides, as tools/test.py')
    return parser.parse_args(argv)


def data_lists(cfg, args: argparse.Namespace) -> tuple:
    """The train and held-out lists: the flags, else the test loader's."""
    dataset = cfg.test_dataloader.dataset
    train = args.train_list or dataset.get('gallery_ann_file')
    heldout = args.heldout_list or dataset.get('query_ann_file')
    if not (train and heldout):
        raise KeyError('give --train-list and --heldout-list: the config\'s '
                       'test_dataloader.dataset has no gallery_ann_file / '
                       'query_ann_file')
    missing = missing_list(
        (('--train-list', train), ('--heldout-list', heldout)))
    if missing:
        raise FileNotFoundError(missing)
    return train, heldout


def missing_list(lists) -> str:
    """``'FLAG: no such file PATH'`` for the first given list that is not
    a file, else ``''``."""
    for flag, path in lists:
        if path and not osp.isfile(path):
            return f'{flag}: no such file {path}'
    return ''


def print_table(result: dict) -> None:
    chance = result['chance']
    print(f"{result['num_train_pairs']} train pairs, "
          f"{result['num_heldout_pairs']} held-out pairs, chance "
          f'{100 * chance:.1f}%')
    rows = []
    if result['pretrained_head']:
        rows.append(
            ('pretrained head', '-', result['pretrained_head']['heldout_acc']))
    rows += [(name, f"{100 * r['train_acc']:.1f}%", r['heldout_acc'])
             for name, r in result['readouts'].items()]
    for name, train, heldout in rows:
        print(f'{name:24s} train {train:>6s}  held out '
              f'{100 * heldout:5.1f}% ({heldout / chance:.1f}x chance)')


def main(argv=None) -> int:
    args = parse_args(argv)
    # Lists given on the command line are checked before torch loads.
    missing = missing_list((('--train-list', args.train_list),
                            ('--heldout-list', args.heldout_list)))
    if missing:
        print(f'sdp_readout: error: {missing}', file=sys.stderr)
        return 2

    from mmengine.utils import ProgressBar

    from cacl_mm.analysis.sdp_readout import (measure_sdp_readouts,
                                              split_loader_cfg)
    from cacl_mm.apis.recognition import build_runner
    from cacl_mm.apis.retrieval import count_videos
    options = dict(args.cfg_options or {})
    if args.video_root:
        options['test_dataloader.dataset.data_prefix.video'] = args.video_root
    checkpoint = None if args.checkpoint.lower() == 'none' else args.checkpoint
    try:
        runner = build_runner(args.config, checkpoint, args.work_dir, options)
        train_list, heldout_list = data_lists(runner.cfg, args)
        loader_cfg = runner.cfg.test_dataloader
        bar = ProgressBar(
            count_videos(train_list) * args.train_draws +
            count_videos(heldout_list) * args.heldout_draws)

        def loader_for(ann_file: str, seed: int):
            return runner.build_dataloader(
                split_loader_cfg(loader_cfg, ann_file, seed))

        result = measure_sdp_readouts(
            runner.model,
            loader_for,
            train_list,
            heldout_list,
            train_draws=args.train_draws,
            heldout_draws=args.heldout_draws,
            epochs=args.epochs,
            hidden_channels=args.hidden_channels,
            progress=bar.update)
    except USER_ERRORS as error:
        message = error.args[0] if isinstance(error, KeyError) else error
        print(f'sdp_readout: error: {message}', file=sys.stderr)
        return 2
    print()
    print_table(result)
    result.update(
        config=args.config,
        checkpoint=args.checkpoint,
        train_list=train_list,
        heldout_list=heldout_list,
        train_draws=args.train_draws,
        heldout_draws=args.heldout_draws,
        epochs=args.epochs)
    os.makedirs(args.work_dir, exist_ok=True)
    out = osp.join(args.work_dir, 'sdp_readout.json')
    with open(out, 'w') as f:
        json.dump(result, f, indent=2)
    print(f'written {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
