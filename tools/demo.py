"""The main job end to end on the embedded benchmark (``make demo``).

1. generate the motion benchmark (UCF101 layout) and check that a single frame
   does not reveal the class;
2. stage 0: MoCo on frames -> the frozen frame encoder of the Transformer;
3. CACL pretraining on the train split, no labels;
4. retrieval (test split queries the train split, R@1/5/10/20/50);
5. fine-tuning with MMAction2's Recognizer3D, multi-clip test (top-1, mean class
   accuracy);
for CACL and for a randomly initialised backbone (and, with ``--ablate``,
3D-only MoCo and edit-distance prediction alone, same budget); then the
figures: training curves, a retrieval grid, t-SNE maps (random init vs CACL)
and the edit-distance confusion matrix. Writes ``results.json`` and
``results.md`` (linking the PNGs) to the output folder and prints the table.
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CACL_CONFIG = osp.join(REPO, 'configs', 'cacl', 'cacl_tiny_r3d_synthetic.py')
FRAME_CONFIG = osp.join(REPO, 'configs', 'frame_moco',
                        'moco_r18_motion10_frames.py')
FINETUNE_CONFIG = osp.join(REPO, 'configs', 'finetune',
                           'r3d_tiny_motion10_split1.py')
METRIC_KEYS = ('retrieval_r1', 'retrieval_r5', 'retrieval_r10',
               'retrieval_r20', 'retrieval_r50', 'finetune_top1',
               'finetune_mean_class_acc')
ROW_NAMES = dict(random_init='random init', cacl='CACL',
                 moco_3d_only='3D-only MoCo (+ edit distance)',
                 sdp_only='edit distance only')
#: Pretraining variants: cfg-options on top of the tiny CACL config.
VARIANTS = dict(
    cacl={},
    moco_3d_only={'model.contrast_head.pairs': "[('cnn_q','cnn_k')]"},
    sdp_only={'model.contrast_head': 'None'},
)


class Demo:
    """Runs the stages as subprocesses (each a plain tools/ command)."""

    def __init__(self, out_dir: str, data_root: str, seed: int,
                 quiet: bool) -> None:
        self.out_dir = out_dir
        self.data_root = data_root
        self.seed = seed
        self.quiet = quiet
        self.start = time.time()
        self.log_path = osp.join(out_dir, 'demo.log')
        os.makedirs(out_dir, exist_ok=True)

    def banner(self, text: str) -> None:
        minutes, seconds = divmod(int(time.time() - self.start), 60)
        print(f'\n=== [{minutes:02d}:{seconds:02d}] {text}', flush=True)

    def run(self, args: List[str], what: str) -> None:
        """Run a tool; its log streams (or goes to demo.log with --quiet)."""
        cmd = [sys.executable] + args
        env = dict(os.environ, PYTHONWARNINGS='ignore')
        with open(self.log_path, 'a') as log:
            log.write(f'\n$ {" ".join(cmd)}\n')
            log.flush()
            proc = subprocess.Popen(cmd, cwd=REPO, env=env, text=True,
                                    stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT)
            for line in proc.stdout:
                log.write(line)
                if not self.quiet and ('Epoch(' in line or 'R@1' in line
                                       or 'error' in line.lower()):
                    print('   ' + line.rstrip()[-150:], flush=True)
            if proc.wait() != 0:
                raise RuntimeError(f'{what} failed (exit {proc.returncode}); '
                                   f'see {self.log_path}')

    def options(self, extra: Dict[str, object]) -> List[str]:
        opts = {'randomness.seed': self.seed, **extra}
        return ['--cfg-options'] + [f'{k}={v}' for k, v in opts.items()]

    def data_options(self) -> Dict[str, str]:
        return {
            'train_dataloader.dataset.ann_file':
            osp.join(self.data_root, 'motion10_train_split_1_videos.txt'),
            'train_dataloader.dataset.data_prefix.video':
            osp.join(self.data_root, 'videos'),
        }

    # ------------------------------------------------------------ stages
    def generate(self) -> dict:
        self.banner(f'1/5 embedded motion benchmark -> {self.data_root}')
        sys.path.insert(0, osp.join(REPO, 'tools', 'data'))
        from generate_motion_benchmark import check_single_frame, generate

        from cacl_mm.datasets.motion_benchmark import BenchmarkSpec
        generate(self.data_root, BenchmarkSpec())
        return check_single_frame(self.data_root)

    def frame_encoder(self) -> str:
        self.banner('2/5 stage 0: MoCo on frames (frozen frame encoder)')
        work = osp.join(self.out_dir, 'frame_moco')
        opts = {
            'train_dataloader.dataset.dataset.ann_file':
            osp.join(self.data_root, 'motion10_train_split_1_videos.txt'),
            'train_dataloader.dataset.dataset.data_prefix.video':
            osp.join(self.data_root, 'videos'),
        }
        self.run(['tools/train.py', FRAME_CONFIG, '--work-dir', work] +
                 self.options(opts), 'stage 0')
        return last_checkpoint(work)

    def pretrain(self, name: str, frame_ckpt: str) -> str:
        self.banner(f'3/5 pretraining: {ROW_NAMES[name]} (no labels)')
        work = osp.join(self.out_dir, f'pretrain_{name}')
        opts = dict(self.data_options(), **VARIANTS[name])
        if name != 'sdp_only' and 'pairs' not in str(VARIANTS[name]):
            opts.update({
                'model.transformer.frame_encoder.init_cfg.type': 'Pretrained',
                'model.transformer.frame_encoder.init_cfg.checkpoint':
                frame_ckpt,
                'model.transformer.frame_encoder.init_cfg.prefix': 'backbone.',
            })
        self.run(['tools/train.py', CACL_CONFIG, '--work-dir', work] +
                 self.options(opts), f'pretraining {name}')
        ckpt = last_checkpoint(work)
        backbone = osp.join(work, 'backbone.pth')
        self.run(['tools/export_backbone.py', ckpt, backbone], 'export')
        return backbone

    def retrieval(self, name: str, backbone: Optional[str]) -> Dict[str, float]:
        self.banner(f'4/5 retrieval: {ROW_NAMES[name]}')
        work = osp.join(self.out_dir, f'retrieval_{name}')
        self.run(['tools/retrieval.py', CACL_CONFIG, backbone or 'none',
                  '--prefix', '', '--work-dir', work, '--save-topk', '5',
                  '--save-features',
                  '--video-root', osp.join(self.data_root, 'videos'),
                  '--gallery-list', osp.join(
                      self.data_root, 'motion10_train_split_1_videos.txt')] +
                 self.options({}), f'retrieval {name}')
        with open(osp.join(work, 'retrieval.json')) as f:
            return json.load(f)['metrics']

    def finetune(self, name: str, backbone: Optional[str]) -> Dict[str, float]:
        self.banner(f'5/5 fine-tuning: {ROW_NAMES[name]}')
        work = osp.join(self.out_dir, f'finetune_{name}')
        opts = {
            'train_dataloader.dataset.ann_file':
            osp.join(self.data_root, 'motion10_train_split_1_videos.txt'),
            'val_dataloader.dataset.ann_file':
            osp.join(self.data_root, 'motion10_val_split_1_videos.txt'),
            'test_dataloader.dataset.ann_file':
            osp.join(self.data_root, 'motion10_val_split_1_videos.txt'),
        }
        for split in ('train', 'val', 'test'):
            opts[f'{split}_dataloader.dataset.data_prefix.video'] = osp.join(
                self.data_root, 'videos')
        if backbone:
            opts['model.backbone.pretrained'] = backbone
        self.run(['tools/train.py', FINETUNE_CONFIG, '--work-dir', work] +
                 self.options(opts), f'fine-tuning {name}')
        test_opts = {k: v for k, v in opts.items() if k.startswith('test_')}
        self.run(['-m', 'cacl_mm.apis.recognition', FINETUNE_CONFIG,
                  last_checkpoint(work), '--work-dir', work] +
                 self.options(test_opts), f'testing {name}')
        with open(osp.join(work, 'test_metrics.json')) as f:
            return json.load(f)['metrics']


    def figures(self, names: List[str]) -> Dict[str, str]:
        """The PNGs of issue 7 into the output folder; name -> file name."""
        self.banner('figures: curves, retrieval grid, embedding map, '
                    'edit-distance confusion')
        classes = self.write_class_names()
        pretrained = [n for n in names if n != 'random_init']
        out = dict(curves='curves.png', retrieval_grid='retrieval_grid.png',
                   embedding_map='embedding_map.png',
                   med_confusion='med_confusion.png')
        self.run(['tools/plot_curves.py'] +
                 [osp.join(self.out_dir, f'pretrain_{n}') for n in pretrained]
                 + ['--labels'] + [ROW_NAMES[n] for n in pretrained] +
                 ['--smooth', '3', '--out',
                  osp.join(self.out_dir, out['curves'])], 'curves')
        self.run(['tools/visualize_retrieval.py',
                  osp.join(self.out_dir, 'retrieval_cacl'), '--classes',
                  classes, '--out',
                  osp.join(self.out_dir, out['retrieval_grid'])],
                 'retrieval grid')
        self.run(['tools/embedding_map.py'] + [
            f'{ROW_NAMES[n]}={osp.join(self.out_dir, f"retrieval_{n}")}'
            for n in ('random_init', 'cacl')] + [
                '--classes', classes, '--seed', str(self.seed), '--out',
                osp.join(self.out_dir, out['embedding_map'])],
                 'embedding map')
        self.run(['tools/med_confusion.py', CACL_CONFIG, last_checkpoint(
            osp.join(self.out_dir, 'pretrain_cacl')), '--ann-file',
                  osp.join(self.data_root, 'motion10_val_split_1_videos.txt'),
                  '--seed', str(self.seed), '--out',
                  osp.join(self.out_dir, out['med_confusion'])] +
                 self.options({'train_dataloader.dataset.data_prefix.video':
                               osp.join(self.data_root, 'videos')}),
                 'edit-distance confusion')
        return out

    def write_class_names(self) -> str:
        """classInd.txt -> classes.txt (one name per line, by label)."""
        from cacl_mm.datasets.annotations import parse_class_index
        index = parse_class_index(
            osp.join(self.data_root, 'annotations', 'classInd.txt'))
        path = osp.join(self.out_dir, 'classes.txt')
        with open(path, 'w') as f:
            f.write('\n'.join(sorted(index, key=index.get)) + '\n')
        return path


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint named in mmengine's ``last_checkpoint`` file."""
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def row(retrieval: Dict[str, float], finetune: Dict[str, float]) -> dict:
    out = {f'retrieval_r{k}': retrieval[f'R@{k}'] for k in (1, 5, 10, 20, 50)}
    out['finetune_top1'] = finetune['top1']
    out['finetune_mean_class_acc'] = finetune['mean1']
    return out


def markdown(results: dict) -> str:
    header = ('| model | R@1 | R@5 | R@10 | R@20 | R@50 | fine-tune top-1 | '
              'fine-tune mean class acc |')
    lines = [header, '|' + ' --- |' * 8]
    for name in ROW_NAMES:
        if name in results:
            values = ' | '.join(f'{100 * results[name][k]:.1f}'
                                for k in METRIC_KEYS)
            lines.append(f'| {ROW_NAMES[name]} | {values} |')
    probe = results.get('single_frame_probe')
    notes = [
        '',
        f"Embedded motion benchmark (10 classes, split 1: "
        f"{results['num_train_videos']} train / {results['num_test_videos']} "
        f"test videos), seed {results['seed']}, {results['elapsed_s'] / 60:.1f} "
        'min on this machine. Percentages.',
    ]
    if probe:
        notes.append(
            f"Single-frame linear probe: {100 * probe['test_acc']:.1f}% test "
            f"accuracy (chance {100 * probe['chance']:.1f}%).")
    med = results.get('med_confusion')
    if med:
        notes.append(
            f"Edit-distance head on held-out clips: {100 * med['accuracy']:.1f}%"
            f" (chance {100 * med['chance']:.1f}%, {med['num_clips']} clips).")
    figures = results.get('figures') or {}
    titles = dict(curves='Training curves (loss_contrast, loss_sdp, acc_sdp)',
                  retrieval_grid='Retrieval: test queries and their top-5 '
                  'train neighbours (green hit, red miss), CACL',
                  embedding_map='t-SNE of test-split features: random init '
                  'vs CACL',
                  med_confusion='Edit-distance confusion matrix (CACL, '
                  'held-out clips)')
    for key, name in figures.items():
        notes += ['', f'### {titles[key]}', '', f'![{key}]({name})']
    return '\n'.join(lines + notes) + '\n'


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', default='data/motion10')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--ablate', action='store_true',
                        help='add 3D-only MoCo and edit-distance-only rows')
    parser.add_argument('--quiet', action='store_true',
                        help='stage banners only; tool logs go to demo.log')
    args = parser.parse_args(argv)

    demo = Demo(osp.abspath(args.out_dir), osp.abspath(args.data_root),
                args.seed, args.quiet)
    probe = demo.generate()
    frame_ckpt = demo.frame_encoder()
    results = dict(seed=args.seed, single_frame_probe=probe)
    names = ['random_init', 'cacl'] + (['moco_3d_only', 'sdp_only']
                                        if args.ablate else [])
    for name in names:
        backbone = None if name == 'random_init' else demo.pretrain(
            name, frame_ckpt)
        results[name] = row(demo.retrieval(name, backbone),
                            demo.finetune(name, backbone))
    results['figures'] = demo.figures(names)
    with open(osp.join(demo.out_dir, 'med_confusion.json')) as f:
        med = json.load(f)
    results['med_confusion'] = {k: med[k] for k in ('accuracy', 'chance',
                                                    'num_clips')}
    from cacl_mm.apis.retrieval import count_videos
    results['num_train_videos'] = count_videos(
        osp.join(demo.data_root, 'motion10_train_split_1_videos.txt'))
    results['num_test_videos'] = count_videos(
        osp.join(demo.data_root, 'motion10_val_split_1_videos.txt'))
    results['elapsed_s'] = time.time() - demo.start
    with open(osp.join(demo.out_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    table = markdown(results)
    with open(osp.join(demo.out_dir, 'results.md'), 'w') as f:
        f.write('# cacl-mm demo results\n\n' + table)
    demo.banner(f'done: {demo.out_dir}/results.json, results.md')
    print(table)
    return 0


if __name__ == '__main__':
    sys.exit(main())
