"""Generate the embedded motion benchmark in UCF101's layout.

    python tools/data/generate_motion_benchmark.py data/motion10

writes ``videos/<Class>/v_<Class>_gXX_cYY.avi``, ``annotations/classInd.txt``,
``trainlist0N.txt``, ``testlist0N.txt`` (UCF101's formats), then converts them
with ``convert_ucf101`` into ``motion10_{train,val}_split_N_videos.txt``.
A second run with the same settings reuses what is there.
"""
import argparse
import json
import os
import os.path as osp
import sys
from dataclasses import asdict

from mmengine.utils import track_parallel_progress, track_progress

from cacl_mm.datasets.annotations import (convert_ucf101, list_file_names,
                                          write_list)
from cacl_mm.datasets.motion_benchmark import (BenchmarkSpec, generate_one,
                                               plan, single_frame_probe,
                                               video_name,
                                               write_official_lists)


def _generate(task):
    root, spec, label, group, clip = task
    return generate_one(root, spec, label, group, clip)


def generate(root: str, spec: BenchmarkSpec, name: str = 'motion10',
             workers: int = 2) -> dict:
    """Generate (or reuse) the benchmark under ``root``; returns the manifest."""
    manifest_path = osp.join(root, 'benchmark.json')
    manifest = dict(spec=asdict(spec), name=name)
    todo = [(root, spec, *item) for item in plan(spec)]
    if osp.isfile(manifest_path):
        with open(manifest_path) as f:
            if json.load(f) == manifest:
                todo = [t for t in todo if not osp.isfile(
                    osp.join(root, 'videos', video_name(*t[2:])))]
            else:
                print(f'{manifest_path} was made with other settings: '
                      'regenerating', file=sys.stderr)
    if todo:
        print(f'writing {len(todo)} videos to {root}/videos')
        if workers > 1:
            track_parallel_progress(_generate, todo, workers, chunksize=4)
        else:
            track_progress(_generate, todo)
    else:
        print(f'{root}: all {len(plan(spec))} videos present, reusing them')
    ann_dir = osp.join(root, 'annotations')
    write_official_lists(root, spec)
    for split in range(1, spec.num_splits + 1):
        train, test = convert_ucf101(ann_dir, split,
                                     video_root=osp.join(root, 'videos'))
        for fname, lines in zip(list_file_names(name, split), (train, test)):
            write_list(osp.join(root, fname), lines)
    os.makedirs(root, exist_ok=True)
    with open(manifest_path, 'w') as f:
        json.dump(manifest, f, indent=2)
    return manifest


def check_single_frame(root: str, name: str = 'motion10') -> dict:
    """Run the single-frame probe on split 1 and write ``single_frame_check.json``."""
    train, test = list_file_names(name, 1)
    result = single_frame_probe(osp.join(root, 'videos'), osp.join(root, train),
                                osp.join(root, test))
    with open(osp.join(root, 'single_frame_check.json'), 'w') as f:
        json.dump(result, f, indent=2)
    print(f"single-frame linear probe: test accuracy {result['test_acc']:.3f} "
          f"(chance {result['chance']:.3f}, train {result['train_acc']:.3f})")
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', nargs='?', default='data/motion10')
    parser.add_argument('--num-groups', type=int, default=BenchmarkSpec.num_groups)
    parser.add_argument('--clips-per-group', type=int,
                        default=BenchmarkSpec.clips_per_group)
    parser.add_argument('--num-frames', type=int, default=BenchmarkSpec.num_frames)
    parser.add_argument('--size', type=int, default=BenchmarkSpec.size)
    parser.add_argument('--seed', type=int, default=BenchmarkSpec.seed)
    parser.add_argument('--workers', type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument('--check', action='store_true',
                        help='fit a single-frame classifier: it should stay near chance')
    args = parser.parse_args(argv)
    spec = BenchmarkSpec(num_groups=args.num_groups,
                         clips_per_group=args.clips_per_group,
                         num_frames=args.num_frames, size=args.size,
                         seed=args.seed)
    generate(args.root, spec, workers=args.workers)
    if args.check:
        check_single_frame(args.root)
    return 0


if __name__ == '__main__':
    sys.exit(main())
