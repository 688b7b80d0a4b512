"""Edit-distance confusion matrix of a CACL checkpoint on held-out clips.

    python tools/med_confusion.py CONFIG CHECKPOINT --out med_confusion.png \
        [--ann-file held-out list (default: the train list's _val_ twin)] \
        [--repeats 4]
    python tools/med_confusion.py --from-json med_confusion.json --out F.png

The second form draws a matrix saved by ``ShuffleDegreeMetric(out_file=...)``
(the representation check of the pretraining configs, or ``tools/test.py``
on a pretraining config) without running the model again.

Each held-out video gives ``--repeats`` clips through the training pipeline
(ShuffleByMED draws a fresh shuffle each time); the online 3D CNN and the
shuffle-degree head predict the distance class. Writes the PNG and a JSON
(matrix, accuracy, chance) beside it.
"""
from __future__ import annotations

import argparse
import json
import os.path as osp
import sys

import numpy as np


def build(config: str, checkpoint: str, ann_file, repeats: int,
          batch_size: int, num_workers: int, cfg_options=None):
    """The model with the checkpoint's weights and a held-out data loader."""
    import torch
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope

    import cacl_mm  # noqa: F401
    from cacl_mm.apis.config_utils import train_dataset_cfg
    from cacl_mm.apis.retrieval import val_list_for
    from cacl_mm.utils import load_checkpoint_dict, state_dict_of
    from mmaction.registry import DATASETS, MODELS

    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model = MODELS.build(cfg.model)
    if getattr(model, 'sdp_head', None) is None:
        raise ValueError(f'{config}: model has no sdp_head to evaluate')
    # Only the online 3D CNN and the head predict; queues and momentum
    # encoders may differ in size from this config's and are not needed.
    used = ('backbone.', 'sdp_head.')
    state = {k: v for k, v in state_dict_of(
        load_checkpoint_dict(checkpoint)).items() if k.startswith(used)}
    missing = [k for k in model.load_state_dict(state, strict=False)
               .missing_keys if k.startswith(used)]
    if missing:
        raise KeyError(f'{checkpoint} lacks {len(missing)} weights of the '
                       f'3D CNN / shuffle-degree head, e.g. {missing[0]}')
    dataset_cfg = train_dataset_cfg(cfg).copy()
    dataset_cfg['ann_file'] = ann_file or val_list_for(dataset_cfg['ann_file'])
    dataset_cfg['test_mode'] = True  # a broken held-out video must raise
    dataset = DATASETS.build(dataset_cfg)
    indices = [i for _ in range(repeats) for i in range(len(dataset))]
    loader = torch.utils.data.DataLoader(
        torch.utils.data.Subset(dataset, indices), batch_size=batch_size,
        num_workers=num_workers, collate_fn=pseudo_collate)
    return model, loader, dataset_cfg['ann_file']


def main(argv=None) -> int:
    from mmengine.config import DictAction

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', nargs='?')
    parser.add_argument('checkpoint', nargs='?')
    parser.add_argument('--from-json', help='draw a saved confusion matrix')
    parser.add_argument('--out', required=True, help='PNG file')
    parser.add_argument('--ann-file', help='held-out list')
    parser.add_argument('--repeats', type=int, default=4)
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--num-workers', type=int, default=2)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)

    from cacl_mm.utils.cli import USER_ERRORS
    from cacl_mm.visualization.med_confusion import (med_confusion_matrix,
                                                     plot_med_confusion)
    if args.from_json:
        try:
            with open(args.from_json) as f:
                matrix = np.asarray(json.load(f)['matrix'], dtype=np.int64)
        except (OSError, KeyError, ValueError) as error:
            print(f'med_confusion: error: cannot read a matrix from '
                  f'{args.from_json}: {error}', file=sys.stderr)
            return 2
        print(plot_med_confusion(matrix, args.out))
        return 0
    if not (args.config and args.checkpoint):
        parser.error('CONFIG and CHECKPOINT are required without --from-json')
    import torch
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    try:
        model, loader, ann_file = build(
            args.config, args.checkpoint, args.ann_file, args.repeats,
            args.batch_size, args.num_workers, args.cfg_options)
    except USER_ERRORS as error:
        print(f'med_confusion: error: {error}', file=sys.stderr)
        return 2
    matrix = med_confusion_matrix(model, loader, total=len(loader))
    path = plot_med_confusion(matrix, args.out,
                              title=osp.basename(args.checkpoint))
    accuracy = float(np.trace(matrix) / max(matrix.sum(), 1))
    with open(osp.splitext(path)[0] + '.json', 'w') as f:
        json.dump(dict(checkpoint=args.checkpoint, ann_file=ann_file,
                       accuracy=accuracy, chance=1. / len(matrix),
                       num_clips=int(matrix.sum()),
                       matrix=matrix.tolist()), f, indent=2)
    print(f'\nMED accuracy {100 * accuracy:.1f}% (chance '
          f'{100 / len(matrix):.1f}%) on {int(matrix.sum())} clips; '
          f'written {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
