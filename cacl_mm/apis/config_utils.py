"""Reading clip settings out of MMAction2 configs."""
from __future__ import annotations
from typing import Iterator, List, Optional


def iter_transforms(dataset_cfg: dict) -> Iterator[dict]:
    """Every transform of a dataset config, wrappers and views included."""
    if dataset_cfg is None:
        return
    if 'dataset' in dataset_cfg:  # RepeatDataset & co.
        yield from iter_transforms(dataset_cfg['dataset'])
    for sub in dataset_cfg.get('datasets', []) or []:  # ConcatDataset
        yield from iter_transforms(sub)
    stack: List = list(dataset_cfg.get('pipeline', []) or [])
    while stack:
        transform = stack.pop(0)
        yield transform
        stack[0:0] = list(transform.get('transforms', []) or [])


def find_transform(dataset_cfg: dict, type_name: str) -> Optional[dict]:
    """The first transform of ``type_name`` in a dataset config."""
    for transform in iter_transforms(dataset_cfg):
        if transform.get('type') == type_name:
            return transform
    return None


def train_dataset_cfg(cfg) -> dict:
    """``cfg.train_dataloader.dataset``."""
    return cfg.get('train_dataloader', {}).get('dataset')


def crop_size_of(dataset_cfg: dict, default: int = 112) -> int:
    """The square size clips are resized to at the end of training views.

    The views come out of MMAction2's transforms (a square ``Resize``, then
    ``CenterCrop``/``RandomCrop``) or, with the batched view augmentation,
    out of ``DrawViewAugmentations(out_size=...)``.
    """
    size = None
    for transform in iter_transforms(dataset_cfg):
        if transform.get('type') == 'DrawViewAugmentations':
            out_size = transform.get('out_size', default)
            width, height = ((out_size, out_size) if isinstance(
                out_size, (int, float)) else tuple(out_size))
            if width == height:
                size = int(width)
        scale = transform.get('scale')
        if (transform.get('type') == 'Resize'
                and not transform.get('keep_ratio', True) and scale
                and scale[0] == scale[1]):
            size = int(scale[0])
        if transform.get('type') in ('CenterCrop', 'RandomCrop'):
            size = int(transform.get('crop_size', size or default))
    return size or default


def set_metric_option(evaluator_cfg, type_name: str, key: str,
                      value: object) -> None:
    """Set ``key`` of the ``type_name`` metric of an evaluator config (one
    metric or a list), found by its type rather than its position.

    Raises:
        KeyError: No metric of that type, naming the ones there are.
    """
    metrics = evaluator_cfg if isinstance(evaluator_cfg,
                                          (list, tuple)) else [evaluator_cfg]
    for metric in metrics:
        if metric.get('type') == type_name:
            metric[key] = value
            return
    raise KeyError(f'test_evaluator has no {type_name} (it has '
                   f"{[m.get('type') for m in metrics]})")
