"""The main job end to end on the embedded benchmark (``make demo``).

1. generate the motion benchmark (UCF101 layout) and check with two static
   probes (single frames, mean frames) that no image reveals the class;
2. stage 0: MoCo on frames -> the frozen frame encoder of the Transformer;
3. CACL pretraining on the train split, no labels (a representation check
   every few epochs), then its diagnostics on held-out clips: edit-distance
   accuracy and the spread of the embeddings;
4. retrieval (test split queries the train split, R@1/5/10/20/50) and a
   linear probe on the frozen backbone features;
5. fine-tuning with MMAction2's Recognizer3D with all train labels and with
   10% of them, multi-clip test;

for a randomly initialised backbone, for CACL, and for the supervised upper
bound (the random-init backbone after fine-tuning with all labels, evaluated
by retrieval and linear probe like the others); with ``--ablate`` also for
3D-only MoCo + edit distance, edit distance alone and CACL without the
edit-distance head (same budget). Then the figures. Each stage is the tool a
user runs (``tools/train.py``, ``tools/retrieval.py`` ...), in its own process.
Writes ``results.json`` and ``results.md`` to the output folder and prints
the table. ``--collection ROOT`` runs the same stages on your own videos (a
folder in UCF101's layout; stage 1 then converts its split and fits the
static probes on it). With several ``--seeds`` each seed gets its own folder
and ``study.json`` / ``study.md`` hold the mean and standard deviation of every
row and metric.
"""
from __future__ import annotations
import argparse
import json
import os.path as osp
import sys
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out-dir', default='work_dirs/demo')
    parser.add_argument(
        '--data-root',
        help='the embedded benchmark\'s folder (default '
        'data/motion10); with --collection, where the lists '
        'go (default OUT_DIR/lists)')
    parser.add_argument(
        '--collection',
        help='your own videos instead of the benchmark: a '
        'folder in UCF101\'s layout (annotations/classInd.txt,'
        ' trainlist0N.txt, testlist0N.txt; videos/)')
    parser.add_argument(
        '--train-list',
        help='or plain MMAction2 lists '
        '("path label" lines): the train list ...')
    parser.add_argument('--test-list', help='... the test list ...')
    parser.add_argument(
        '--video-root',
        help='... and the folder their '
        'paths are relative to')
    parser.add_argument(
        '--classes',
        help='with --train-list: class names, '
        'one per line in label order (default class_N)')
    parser.add_argument(
        '--split',
        type=int,
        default=1,
        help='the collection\'s split (default 1)')
    parser.add_argument(
        '--name',
        help='list file prefix (default: the '
        'collection folder\'s name)')
    parser.add_argument(
        '--epochs',
        type=int,
        help='every training stage\'s max_epochs: a quick '
        'look at the machinery, not the recipe\'s results')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0])
    parser.add_argument(
        '--ablate',
        action='store_true',
        help='add the 3D-only MoCo, edit-distance-only and '
        'CACL-without-edit-distance rows')
    parser.add_argument(
        '--no-figures',
        action='store_true',
        help='skip the PNGs (results.json/.md only)')
    parser.add_argument(
        '--jobs',
        type=int,
        help='stages run at once where one does not need '
        'the other (default 2; 1 on a one-CPU machine); each '
        'tool gets an equal share of the CPUs as torch threads '
        'unless OMP_NUM_THREADS is set')
    parser.add_argument(
        '--quiet',
        action='store_true',
        help='stage banners only; tool logs go to demo.log')
    args = parser.parse_args(argv)
    if args.jobs is not None and args.jobs < 1:
        parser.error(f'--jobs must be at least 1, got {args.jobs}')

    out_dir = osp.abspath(args.out_dir)
    collection = args.collection and osp.abspath(args.collection)
    plain = (args.train_list, args.test_list, args.video_root)
    if any(plain) and (collection or not all(plain)):
        parser.error('plain lists need --train-list, --test-list and '
                     '--video-root, and no --collection')
    lists = (
        tuple(osp.abspath(p) for p in plain) +
        (args.classes and osp.abspath(args.classes), ) if all(plain) else None)
    if collection and not osp.isfile(
            osp.join(collection, 'annotations', 'classInd.txt')):
        parser.error(f'{collection}/annotations/classInd.txt not found: '
                     '--collection takes a folder in UCF101\'s layout')
    from cacl_mm.analysis.demo_pipeline import NAME, Demo, default_jobs
    data_root = osp.abspath(
        args.data_root or (osp.join(out_dir, 'lists')
                           if collection or lists else 'data/motion10'))
    name = args.name or (osp.basename(collection)
                         if collection else 'own' if lists else NAME)
    from cacl_mm.analysis.report import markdown, study_markdown, study_summary
    start = time.time()
    per_seed = []
    for seed in args.seeds:
        seed_dir = out_dir if len(args.seeds) == 1 else osp.join(
            out_dir, f'seed_{seed}')
        demo = Demo(
            seed_dir,
            data_root,
            seed,
            args.quiet,
            collection=collection,
            split=args.split,
            name=name,
            epochs=args.epochs,
            lists=lists,
            jobs=args.jobs or default_jobs())
        results = demo.main_job(args.ablate, figures=not args.no_figures)
        demo.banner(f'done: {seed_dir}/results.json, results.md')
        print(markdown(results))
        per_seed.append(results)
    if len(per_seed) > 1:
        summary = study_summary(per_seed)
        summary['wall_time_s'] = time.time() - start
        with open(osp.join(out_dir, 'study.json'), 'w') as f:
            json.dump(summary, f, indent=2)
        table = study_markdown(summary)
        with open(osp.join(out_dir, 'study.md'), 'w') as f:
            f.write('# cacl-mm study\n\n' + table)
        print(table)
    return 0


if __name__ == '__main__':
    sys.exit(main())
