"""Test a checkpoint with a config's test loop; keep the metrics as a file.

    python tools/evaluate.py CONFIG CHECKPOINT --work-dir DIR \
        [--cfg-options KEY=VALUE ...]

Writes ``DIR/test_metrics.json`` (the metric keys of the config's
``test_evaluator``, e.g. MMAction2's ``AccMetric``), which ``mim test`` and
``tools/test.py`` only print. Unlike them it loads the checkpoint strictly:
a checkpoint that does not fit the config (another
``model.cls_head.num_classes``) fails instead of scoring a random head.
"""
from __future__ import annotations
import argparse
import json
import sys

from mmengine.config import DictAction


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--work-dir', required=True)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='config overrides, as tools/test.py')
    parser.add_argument(
        '--med-confusion',
        metavar='JSON',
        help='a pretraining config: write the edit-distance confusion '
        'matrix of its ShuffleDegreeMetric here (tools/med_confusion.py '
        'draws it)')
    args = parser.parse_args(argv)

    from cacl_mm.apis.recognition import test_recognizer
    metrics = test_recognizer(args.config, args.checkpoint, args.work_dir,
                              args.cfg_options, args.med_confusion)
    print(json.dumps(metrics))
    return 0


if __name__ == '__main__':
    sys.exit(main())
