"""Test a recognizer with mmengine's Runner and keep the metrics as a file.

    python -m cacl_mm.apis.recognition CONFIG CHECKPOINT --work-dir DIR

writes ``DIR/test_metrics.json`` (MMAction2's ``AccMetric`` keys), which
``mim test`` and ``tools/test.py`` only print.
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, Optional


def test_recognizer(config: str, checkpoint: str, work_dir: str,
                    cfg_options: Optional[dict] = None) -> Dict[str, float]:
    """Run the config's test loop on ``checkpoint``; returns the metrics."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    import cacl_mm  # noqa: F401
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.work_dir = work_dir
    cfg.load_from = None
    runner = Runner.from_cfg(cfg)
    # Strict: the Runner's own load_from is lenient, and a head of another
    # size (model.cls_head.num_classes) would then stay random and score 0.
    try:
        runner.load_checkpoint(checkpoint, map_location='cpu', strict=True)
    except RuntimeError as error:
        raise RuntimeError(
            f'{checkpoint} does not fit the model of {config} (was it trained '
            'with other --cfg-options, e.g. model.cls_head.num_classes?): '
            f'{str(error).strip()[:1500]}') from None
    metrics = runner.test()
    result = {k.split('/')[-1]: float(v) for k, v in metrics.items()}
    os.makedirs(work_dir, exist_ok=True)
    with open(osp.join(work_dir, 'test_metrics.json'), 'w') as f:
        json.dump(dict(config=config, checkpoint=checkpoint, metrics=result),
                  f, indent=2)
    return result


def main(argv=None) -> int:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    metrics = test_recognizer(args.config, args.checkpoint, args.work_dir,
                              args.cfg_options)
    print(json.dumps(metrics))
    return 0


if __name__ == '__main__':
    sys.exit(main())
