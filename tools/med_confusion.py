"""Draw the edit-distance confusion matrix that ``ShuffleDegreeMetric`` saved.

    # the matrix of a checkpoint on the held-out clips (rows true distance):
    python tools/evaluate.py CONFIG CKPT --work-dir WORK \
        --med-confusion med_confusion.json
    python tools/med_confusion.py med_confusion.json --out med_confusion.png

``ShuffleDegreeMetric(out_file=...)`` writes the JSON (matrix, accuracy,
chance) wherever it runs: ``tools/evaluate.py --med-confusion`` (or
MMAction2's ``tools/test.py`` with ``test_evaluator.2.out_file``, the
metric's place in the configs here) on a pretraining config, or the
representation check during pretraining (``val_evaluator.2.out_file``).
"""
from __future__ import annotations
import argparse
import json
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('json', help="ShuffleDegreeMetric's out_file")
    parser.add_argument('--out', required=True, help='PNG file')
    parser.add_argument('--title', default='', help='figure title prefix')
    args = parser.parse_args(argv)

    import numpy as np
    try:
        with open(args.json) as f:
            matrix = np.asarray(json.load(f)['matrix'], dtype=np.int64)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f'not a square matrix: shape {matrix.shape}')
    except (OSError, KeyError, ValueError, TypeError) as error:
        print(
            f'med_confusion: error: cannot read a matrix from {args.json}: '
            f'{error}',
            file=sys.stderr)
        return 2
    # cacl_mm (torch, mmaction) loads once the matrix is read: a missing
    # file is named at once.
    from cacl_mm.visualization.med_confusion import plot_med_confusion
    print(plot_med_confusion(matrix, args.out, title=args.title))
    return 0


if __name__ == '__main__':
    sys.exit(main())
