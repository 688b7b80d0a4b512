"""How well can the edit-distance class be read from what a head sees?

Draws shuffles as ``ShuffleByMED`` does (distance uniform, then a
permutation of exactly that distance) and scores, on held-out draws:

* ``clip_statistics``: a lookup table from three clip-level statistics of
  the shuffle (how many jumps, their total size, how many go backwards) to
  the most frequent distance class: what a head on pooled clip features
  could at best infer from a global summary of the shuffle.
* ``slots_S``: an MLP on the exact S x S permutation matrix with pairs of
  adjacent frames merged into one slot until S slots remain: what the
  ``'alignment'`` input of ``ShuffleDegreeHead`` gives a head when each of
  S time slots is recognised perfectly.

Example::

    python tools/med_bounds.py --clip-len 8 --slots 8 4 --out bounds.json
"""
from __future__ import annotations
import argparse
import json
import sys
from typing import List, Optional


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--clip-len', type=int, default=8)
    parser.add_argument(
        '--slots',
        type=int,
        nargs='+',
        default=[8, 4],
        help='time slots of each permutation-matrix bound')
    parser.add_argument('--num-train', type=int, default=40000)
    parser.add_argument('--num-test', type=int, default=5000)
    parser.add_argument('--epochs', type=int, default=30)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='write the accuracies as JSON here')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)

    from cacl_mm.analysis.med_bounds import check_slots, measure
    try:
        check_slots(args.clip_len, args.slots)
    except ValueError as error:
        print(
            f'med_bounds: error: --slots / --clip-len: {error}',
            file=sys.stderr)
        return 2
    results = measure(args.clip_len, args.slots, args.num_train, args.num_test,
                      args.epochs, args.seed)
    for name, value in results.items():
        print(f'{name}: {100 * value:.1f}%')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)
        print(f'written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
