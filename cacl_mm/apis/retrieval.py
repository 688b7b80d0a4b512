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
    """MMAction2's naming: ``..._train_split_N_...`` -> ``..._val_split_N_...``."""
    if '_train_' not in osp.basename(train_list):
        raise ValueError(f'cannot derive the test list from {train_list}; '
                         'pass --query-list')
    return osp.join(osp.dirname(train_list),
                    osp.basename(train_list).replace('_train_', '_val_'))


def build_retrieval_cfg(cfg: Config,
                        work_dir: str,
                        gallery_list: Optional[str] = None,
                        query_list: Optional[str] = None,
                        video_root: Optional[str] = None,
                        num_clips: int = 10,
                        clip_len: Optional[int] = None,
                        frame_interval: Optional[int] = None,
                        crop_size: Optional[int] = None,
                        feature: str = 'avg',
                        batch_size: int = 4,
                        num_workers: int = 2,
                        save_topk: int = 0,
                        save_features: bool = False,
                        launcher: str = 'none',
                        model_key: str = 'backbone') -> Config:
    """A test-only config: train-split gallery, test-split queries.

    Clip length, stride, crop size, data lists and root default to those of
    ``cfg``'s training pipeline; the backbone and data preprocessor are
    ``cfg.model``'s, so the config of any MMAction2 recognizer or of a CACL
    pretraining run works. ``model_key='transformer'`` evaluates a CACL
    model's Transformer clip encoder instead of its 3D CNN.
    """
    if model_key not in cfg.model:
        raise KeyError(f'the config\'s model has no {model_key!r} to '
                       f'evaluate (it has {sorted(cfg.model)})')
    train_ds = train_dataset_cfg(cfg)
    while train_ds is not None and 'ann_file' not in train_ds and 'dataset' in train_ds:
        train_ds = train_ds['dataset']
    sampler = find_transform(train_ds, 'SampleFrames') or {}
    clip_len = clip_len or sampler.get('clip_len', 16)
    frame_interval = frame_interval or sampler.get('frame_interval', 2)
    crop_size = crop_size or crop_size_of(train_ds)
    gallery_list = gallery_list or train_ds['ann_file']
    query_list = query_list or val_list_for(gallery_list)
    video_root = video_root or train_ds.get('data_prefix', {}).get('video', '')
    pipeline = [
        dict(type='DecordInit'),
        dict(type='SampleFrames', clip_len=clip_len,
             frame_interval=frame_interval, num_clips=num_clips,
             test_mode=True),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(-1, int(round(crop_size * 128 / 112)))),
        dict(type='CenterCrop', crop_size=crop_size),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs', algorithm_keys=('retrieval_role', )),
    ]

    model = cfg.model
    new = dict(
        default_scope='mmaction',
        custom_imports=dict(imports=['cacl_mm'], allow_failed_imports=False),
        work_dir=work_dir,
        model=dict(type='VideoFeatureExtractor', backbone=model[model_key],
                   feature=feature,
                   data_preprocessor=model.get('data_preprocessor')),
        test_dataloader=dict(
            batch_size=batch_size, num_workers=num_workers,
            persistent_workers=False,
            sampler=dict(type='DefaultSampler', shuffle=False),
            # test_mode: a broken video raises (a skip would bias recall)
            dataset=dict(type='RetrievalVideoDataset',
                         gallery_ann_file=gallery_list,
                         query_ann_file=query_list,
                         data_prefix=dict(video=video_root),
                         pipeline=pipeline)),
        test_evaluator=dict(
            type='VideoRetrievalMetric',
            out_file=osp.join(work_dir, 'retrieval_topk.json') if save_topk else None,
            save_topk=save_topk,
            features_file=(osp.join(work_dir, 'retrieval_features.npz')
                           if save_features else None)),
        test_cfg=dict(type='TestLoop'),
        default_hooks=dict(
            runtime_info=dict(type='RuntimeInfoHook'),
            timer=dict(type='IterTimerHook'),
            logger=dict(type='LoggerHook', interval=20)),
        env_cfg=cfg.get('env_cfg', dict(dist_cfg=dict(backend='nccl'))),
        launcher=launcher,
        log_level='INFO',
        # The seed of the source config (a random-init baseline depends on it).
        randomness=cfg.get('randomness', dict(seed=0)),
    )
    if 'model_wrapper_cfg' in cfg:
        new['model_wrapper_cfg'] = cfg.model_wrapper_cfg
    return Config(new)


def run_retrieval(retrieval_cfg: Config, checkpoint: Optional[str],
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
            with ``save_features=True``.

    Returns:
        dict: R@k metrics; also written to ``<work_dir>/retrieval.json``.
    """
    from mmengine.dist import is_main_process
    from mmengine.model import is_model_wrapper
    from mmengine.runner import Runner

    from ..utils import backbone_state_dict

    runner = Runner.from_cfg(retrieval_cfg)
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    if checkpoint:
        model.backbone.load_state_dict(
            backbone_state_dict(checkpoint, model.backbone, prefix))
    else:
        model.init_weights()
    features_file = retrieval_cfg.test_evaluator.get('features_file')
    if linear_probe and not features_file:
        raise ValueError('the linear probe needs the features: build the '
                         'retrieval config with save_features=True')
    metrics = runner.test()
    result = {k.split('/')[-1]: v for k, v in metrics.items()}
    if is_main_process():
        dataset = retrieval_cfg.test_dataloader.dataset
        record = dict(checkpoint=checkpoint, metrics=result,
                      feature=retrieval_cfg.model.feature,
                      gallery_list=dataset.gallery_ann_file,
                      query_list=dataset.query_ann_file,
                      video_root=dataset.data_prefix.video)
        if linear_probe:
            from ..evaluation.probes import frozen_feature_probe
            record['linear_probe'] = frozen_feature_probe(features_file)
        os.makedirs(retrieval_cfg.work_dir, exist_ok=True)
        with open(osp.join(retrieval_cfg.work_dir, 'retrieval.json'), 'w') as f:
            json.dump(record, f, indent=2)
        if linear_probe:
            result['linear_probe_top1'] = record['linear_probe']['test_acc']
    return result
