"""Generate the embedded motion benchmark in UCF101's layout.

    python tools/data/generate_motion_benchmark.py data/motion10 [--check]

writes ``videos/<Class>/v_<Class>_gXX_cYY.avi``, ``annotations/classInd.txt``,
``trainlist0N.txt``, ``testlist0N.txt`` (UCF101's formats), converts them
with the UCF101 converter into ``motion10_{train,val}_split_N_videos.txt``
and writes a class-balanced 10% train list per split. A second run with the
same settings reuses what is there. ``--check`` fits the two static probes
(a linear classifier on single frames and one on each video's mean frame):
on a motion benchmark both must stay near chance; they go to
``<root>/static_probes.json``.
"""
import argparse
import dataclasses
import json
import os
import os.path as osp
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', nargs='?', default='data/motion10')
    # Defaults (None) are BenchmarkSpec's: the embedded benchmark.
    parser.add_argument(
        '--num-groups',
        type=int,
        help='groups, each a nuisance draw shared by all '
        'classes (default 30)')
    parser.add_argument(
        '--clips-per-group',
        type=int,
        help='clips per class and group (default 2)')
    parser.add_argument(
        '--num-classes',
        type=int,
        help='the first N motion classes (default all 10)')
    parser.add_argument('--num-frames', type=int, help='default 32')
    parser.add_argument('--size', type=int, help='frame size (default 64)')
    parser.add_argument('--seed', type=int, help='default 0')
    parser.add_argument('--num-splits', type=int, help='1-3 (default 3)')
    parser.add_argument(
        '--classes',
        nargs='+',
        metavar='MOTION',
        help='motions in label order, any of the generator\'s vocabulary '
        '(default motion10\'s ten)')
    parser.add_argument('--fps', type=int, help='frame rate (default 25)')
    parser.add_argument(
        '--camera-motion',
        type=float,
        help='camera pan per clip, up to this fraction of the object '
        'speed (default 0)')
    parser.add_argument(
        '--texture', choices=('smooth', 'busy'), help='default smooth')
    parser.add_argument(
        '--noise',
        type=float,
        nargs=2,
        metavar=('LOW', 'HIGH'),
        help='sensor noise sd range (default 2 6)')
    parser.add_argument(
        '--collection',
        help='a member of the benchmark family '
        '(cacl_mm.datasets.benchmark_family): its settings, its name as '
        'the list prefix; the flags above override them')
    parser.add_argument(
        '--name',
        help='prefix of the MMAction2 list files (default '
        'motion10, or the --collection name)')
    parser.add_argument(
        '--workers', type=int, default=min(2,
                                           os.cpu_count() or 1))
    parser.add_argument(
        '--check',
        action='store_true',
        help='fit the single-frame and mean-frame probes on '
        'split 1: both should stay near chance')
    args = parser.parse_args(argv)
    # cacl_mm (torch, mmaction) loads after parsing: --help answers at once.
    from cacl_mm.datasets.annotations import list_file_names
    from cacl_mm.datasets.benchmark_family import FAMILY
    from cacl_mm.datasets.motion_benchmark import (BenchmarkSpec,
                                                   generate_benchmark)
    from cacl_mm.evaluation.probes import frame_probe
    base = BenchmarkSpec()
    if args.collection:
        if args.collection not in FAMILY:
            parser.error(f'--collection {args.collection}: not a member of '
                         f'the family ({", ".join(FAMILY)})')
        base = FAMILY[args.collection].spec
    given = dict(vars(args), class_names=args.classes)
    overrides = {
        f.name:
        tuple(given[f.name])
        if isinstance(given[f.name], list) else given[f.name]
        for f in dataclasses.fields(BenchmarkSpec)
        if given.get(f.name) is not None
    }
    if args.classes and args.num_classes is None:
        overrides['num_classes'] = None  # all of them, not the base's count
    try:
        spec = dataclasses.replace(base, **overrides)
    except ValueError as err:
        parser.error(str(err))
    name = args.name or args.collection or 'motion10'
    manifest = generate_benchmark(
        args.root, spec, name=name, workers=args.workers)
    if args.check:
        train, test = (
            osp.join(args.root, name)
            for name in list_file_names(manifest['name'], 1))
        probes = {}
        for mode in ('single', 'mean'):
            result = frame_probe(
                osp.join(args.root, 'videos'), train, test, mode=mode)
            probes[f'{mode}_frame_probe'] = result
            print(f"{mode}-frame linear probe: test accuracy "
                  f"{result['test_acc']:.3f} (chance {result['chance']:.3f}, "
                  f"train {result['train_acc']:.3f})")
        with open(osp.join(args.root, 'static_probes.json'), 'w') as f:
            json.dump(probes, f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
