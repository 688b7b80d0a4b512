"""Video retrieval through mmengine's Runner: config building and running."""
from __future__ import annotations
import json
import os
import os.path as osp
from typing import Dict, Optional

from mmengine.config import Config

from .config_utils import crop_size_of, find_transform, train_dataset_cfg


def count_videos(list_file: str) -> int:
    """Non-blank lines of an MMAction2 list file."""
    if not osp.isfile(list_file):
        raise FileNotFoundError(
            f'list file not found: {list_file} (pass --gallery-list / '
            '--query-list, or fix the config\'s train ann_file)')
    with open(list_file) as f:
        return sum(1 for line in f if line.strip())


def val_list_for(train_list: str) -> str:
    """MMAction2's naming: ``..._train_split_N_...`` -> ``..._val_...``."""
    if '_train_' not in osp.basename(train_list):
        raise ValueError(f'cannot derive the test list from {train_list}; '
                         'pass --query-list')
    return osp.join(
        osp.dirname(train_list),
        osp.basename(train_list).replace('_train_', '_val_'))


#: Keys of configs/retrieval/video_retrieval.py by what they set (the
#: builder fills some from the source config; tools/retrieval.py's flags
#: have these names).
RETRIEVAL_KEYS = {
    'gallery_list': 'test_dataloader.dataset.gallery_ann_file',
    'query_list': 'test_dataloader.dataset.query_ann_file',
    'video_root': 'test_dataloader.dataset.data_prefix.video',
    'num_clips': 'test_dataloader.dataset.pipeline.1.num_clips',
    'clip_len': 'test_dataloader.dataset.pipeline.1.clip_len',
    'frame_interval': 'test_dataloader.dataset.pipeline.1.frame_interval',
    'feature': 'model.feature',
    'batch_size': 'test_dataloader.batch_size',
    'num_workers': 'test_dataloader.num_workers',
    'save_topk': 'test_evaluator.save_topk',
    'features_file': 'test_evaluator.features_file',
    'launcher': 'launcher',
}
GALLERY_KEY = RETRIEVAL_KEYS['gallery_list']
QUERY_KEY = RETRIEVAL_KEYS['query_list']


def crop_options(crop_size: int) -> Dict[str, object]:
    """Retrieval-config keys of a centre crop: short side resized to
    crop x 128 / 112 (MMAction2's test pipelines), then the crop."""
    return {
        'test_dataloader.dataset.pipeline.3.scale':
        (-1, int(round(crop_size * 128 / 112))),
        'test_dataloader.dataset.pipeline.4.crop_size':
        crop_size,
    }


def build_retrieval_cfg(base: str,
                        source: Config,
                        work_dir: str,
                        model_key: str = 'backbone',
                        options: Optional[Dict[str, object]] = None) -> Config:
    """The retrieval config ``base`` for the model of ``source``.

    From ``source`` come the backbone (``model.<model_key>``; the
    Transformer clip encoder of a CACL model with ``'transformer'``), the
    data preprocessor, the training clips' length, stride and crop, the
    train list as gallery (its ``_val_`` twin as queries), the video root,
    ``env_cfg`` and the seed (a random-init baseline depends on it). Then
    ``options`` override any key of the retrieval config, as
    ``--cfg-options`` do; a gallery set there without queries gets its
    ``_val_`` twin.

    Args:
        base (str): The retrieval base config
            (``configs/retrieval/video_retrieval.py``).
        source (Config): A pretraining or recognition config.
        work_dir (str): Where the results go.
        model_key (str): ``model.<key>`` of ``source`` to evaluate.
        options (dict, optional): Overrides of the retrieval config.
    """
    if model_key not in source.model:
        raise KeyError(f'the config\'s model has no {model_key!r} to '
                       f'evaluate (it has {sorted(source.model)})')
    train_ds = train_dataset_cfg(source)
    while 'ann_file' not in train_ds and 'dataset' in train_ds:
        train_ds = train_ds['dataset']
    sampler = find_transform(train_ds, 'SampleFrames') or {}
    cfg = Config.fromfile(base)
    cfg.work_dir = work_dir
    cfg.model.backbone = source.model[model_key]
    cfg.model.data_preprocessor = source.model.get('data_preprocessor')
    for key in ('env_cfg', 'randomness', 'model_wrapper_cfg'):
        if key in source:
            cfg[key] = source[key]
    derived = {
        RETRIEVAL_KEYS['clip_len']:
        sampler.get('clip_len', 16),
        RETRIEVAL_KEYS['frame_interval']:
        sampler.get('frame_interval', 2),
        RETRIEVAL_KEYS['video_root']:
        train_ds.get('data_prefix', {}).get('video', ''),
        GALLERY_KEY:
        train_ds['ann_file'],
        **crop_options(crop_size_of(train_ds)),
    }
    options = dict(options or {})
    if QUERY_KEY not in options:
        options[QUERY_KEY] = val_list_for(
            options.get(GALLERY_KEY, derived[GALLERY_KEY]))
    cfg.merge_from_dict({**derived, **options})
    evaluator = cfg.test_evaluator
    if evaluator.get('save_topk') and not evaluator.get('out_file'):
        evaluator.out_file = osp.join(work_dir, 'retrieval_topk.json')
    return cfg


def query_neighbour_sources(features_file: str,
                            query_list: str) -> Optional[Dict[str, float]]:
    """:func:`~cacl_mm.evaluation.retrieval.neighbour_sources` of the test
    split's saved features, when its videos carry UCF101's group in their
    names (else None)."""
    import numpy as np
    import torch

    from ..evaluation.probes import read_video_list
    from ..evaluation.retrieval import neighbour_sources, ucf101_groups
    videos = read_video_list(query_list)
    groups = ucf101_groups([path for path, _ in videos])
    data = np.load(features_file)
    labels = [label for _, label in videos]
    # The metric saves the queries in list order; anything else (another
    # list, a sharded run) is not scored rather than scored wrongly.
    if groups is None or len(groups) < 2 or \
            labels != data['query_labels'].tolist():
        return None
    return neighbour_sources(
        torch.from_numpy(data['query_features']),
        torch.from_numpy(data['query_labels']), torch.tensor(groups))


def run_retrieval(retrieval_cfg: Config,
                  checkpoint: Optional[str],
                  prefix: Optional[str] = None,
                  linear_probe: bool = False) -> Dict[str, float]:
    """Load the backbone weights and run the test loop.

    Args:
        retrieval_cfg (Config): From :func:`build_retrieval_cfg`.
        checkpoint (str, optional): Checkpoint holding the backbone under
            ``prefix``; None evaluates the randomly initialised backbone.
        prefix (str, optional): Key prefix of the backbone in the
            checkpoint; None: ``'backbone.'`` when the checkpoint has such
            keys, else ``''`` (a file of ``tools/export_backbone.py``).
        linear_probe (bool): Also fit a linear classifier on the frozen
            gallery (train) features and score it on the queries (test):
            ``linear_probe`` in ``retrieval.json``. Needs the config built
            with ``test_evaluator.features_file``.

    Returns:
        dict: R@k metrics; also written to ``<work_dir>/retrieval.json``.
    """
    from mmengine.dist import is_main_process
    from mmengine.model import is_model_wrapper
    from mmengine.runner import Runner

    from ..utils import backbone_state_dict

    runner = Runner.from_cfg(retrieval_cfg)
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    if checkpoint:
        model.backbone.load_state_dict(
            backbone_state_dict(checkpoint, model.backbone, prefix))
    else:
        model.init_weights()
    features_file = retrieval_cfg.test_evaluator.get('features_file')
    if linear_probe and not features_file:
        raise ValueError('the linear probe needs the features: set '
                         'test_evaluator.features_file')
    metrics = runner.test()
    result = {k.split('/')[-1]: v for k, v in metrics.items()}
    if is_main_process():
        dataset = retrieval_cfg.test_dataloader.dataset
        record = dict(
            checkpoint=checkpoint,
            metrics=result,
            feature=retrieval_cfg.model.feature,
            gallery_list=dataset.gallery_ann_file,
            query_list=dataset.query_ann_file,
            video_root=dataset.data_prefix.video)
        if linear_probe:
            from ..evaluation.probes import frozen_feature_probe
            record['linear_probe'] = frozen_feature_probe(features_file)
        if features_file:
            record['query_neighbours'] = query_neighbour_sources(
                features_file, dataset.query_ann_file)
        os.makedirs(retrieval_cfg.work_dir, exist_ok=True)
        with open(osp.join(retrieval_cfg.work_dir, 'retrieval.json'),
                  'w') as f:
            json.dump(record, f, indent=2)
        if linear_probe:
            result['linear_probe_top1'] = record['linear_probe']['test_acc']
    return result
