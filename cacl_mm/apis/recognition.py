"""Test a recognizer with mmengine's Runner and keep the metrics as a file.

``tools/evaluate.py`` is its command line. It writes
``WORK_DIR/test_metrics.json``, which ``mim test`` and ``tools/test.py`` only
print, and loads the checkpoint strictly.
"""
from __future__ import annotations
import json
import os
import os.path as osp
from typing import Dict, Optional


def build_runner(config: str,
                 checkpoint: Optional[str],
                 work_dir: str,
                 cfg_options: Optional[dict] = None,
                 med_confusion: Optional[str] = None):
    """mmengine's Runner of ``config`` with ``checkpoint`` loaded strictly
    (None: the model's own initialisation, ``init_weights``); with
    ``med_confusion`` the config's ``ShuffleDegreeMetric`` writes its
    confusion matrix there."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    import cacl_mm  # noqa: F401
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if med_confusion:
        from .config_utils import set_metric_option
        set_metric_option(cfg.test_evaluator, 'ShuffleDegreeMetric',
                          'out_file', med_confusion)
    cfg.work_dir = work_dir
    cfg.load_from = None
    runner = Runner.from_cfg(cfg)
    if checkpoint is None:
        runner.model.init_weights()
        return runner
    # Strict: the Runner's own load_from is lenient, and a head of another
    # size (model.cls_head.num_classes) would then stay random and score 0.
    try:
        runner.load_checkpoint(checkpoint, map_location='cpu', strict=True)
    except RuntimeError as error:
        raise RuntimeError(
            f'{checkpoint} does not fit the model of {config} (was it trained '
            'with other --cfg-options, e.g. model.cls_head.num_classes?): '
            f'{str(error).strip()[:1500]}') from None
    return runner


def test_recognizer(config: str,
                    checkpoint: str,
                    work_dir: str,
                    cfg_options: Optional[dict] = None,
                    med_confusion: Optional[str] = None) -> Dict[str, float]:
    """Run the config's test loop on ``checkpoint``; returns the metrics
    (``med_confusion``: as :func:`build_runner`)."""
    runner = build_runner(config, checkpoint, work_dir, cfg_options,
                          med_confusion)
    metrics = runner.test()
    result = {k.split('/')[-1]: float(v) for k, v in metrics.items()}
    os.makedirs(work_dir, exist_ok=True)
    with open(osp.join(work_dir, 'test_metrics.json'), 'w') as f:
        json.dump(
            dict(config=config, checkpoint=checkpoint, metrics=result),
            f,
            indent=2)
    return result
