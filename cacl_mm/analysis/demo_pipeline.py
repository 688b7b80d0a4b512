"""The demo's pipeline of stages: one seed, every stage a tool.

:class:`Demo` runs each stage as the process a user would run
(``tools/train.py``, ``tools/retrieval.py`` ...) from the repository root,
reads the stage's JSON output and assembles ``results.json`` /
``results.md`` with the verdict. ``tools/demo.py`` is the command line
around it (``make demo``); the stages it runs are listed there.
"""
from __future__ import annotations
import functools
import itertools
import json
import os
import os.path as osp
import sys
import threading
import time
from typing import Dict, List, Optional, Tuple

from ..apis.recipe import FIT_TARGET, SmallScaleRecipe, stalled
from ..apis.retrieval import count_videos
from ..datasets.annotations import (list_file_names, parse_class_index,
                                    subsample_per_class, write_list)
from ..datasets.motion_benchmark import few_label_list_name
from ..evaluation.probes import frame_probe
from ..utils.cli import read_class_names
from ..utils.hardware import usable_cpus
from ..utils.run_progress import ScalarsTail
from ..visualization.curves import load_curves
from .report import ROW_NAMES, markdown
from .stage_graph import StageGraph
from .tool_runner import ToolRunner
from .verdict import curve_signals, judge

#: The repository root: the tools and configs the stages run.
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CACL_CONFIG = osp.join(REPO, 'configs', 'cacl', 'cacl_tiny_r3d_synthetic.py')
FRAME_CONFIG = osp.join(REPO, 'configs', 'frame_moco',
                        'moco_r18_tiny_frames.py')
FINETUNE_CONFIG = osp.join(REPO, 'configs', 'finetune',
                           'r3d_tiny_motion10_split1.py')
FEW_LABEL_CONFIG = osp.join(REPO, 'configs', 'finetune',
                            'r3d_tiny_motion10_split1_10pct.py')
NAME = 'motion10'


@functools.lru_cache(maxsize=None)
def _circular_shift_indices(config: str) -> Tuple[int, ...]:
    """Where the train pipeline has a ``RandomCircularShift`` (its
    top-level index: what a ``--cfg-options`` key can address)."""
    from mmengine.config import Config

    from ..apis.config_utils import train_dataset_cfg
    pipeline = train_dataset_cfg(Config.fromfile(config))['pipeline']
    return tuple(index for index, transform in enumerate(pipeline)
                 if transform.get('type') == 'RandomCircularShift')


def circular_shift_off(config: str) -> Dict[str, float]:
    """``--cfg-options`` that turn off the fine-tune config's
    ``RandomCircularShift`` for a fine-tune from random init.

    The shift is for a pretrained start, which otherwise fits its train
    videos partly by where the object is; from scratch it stalled one
    motion10 fine-tune in three at ln C (docs/recipe_rules.md, "Do the
    fine-tuned models read the object's place?"), so random init and the
    supervised bound keep the recipe they had.
    """
    return {
        f'train_dataloader.dataset.pipeline.{index}.prob': 0.0
        for index in _circular_shift_indices(config)
    }


#: Pretraining variants: cfg-options on top of the tiny CACL config.
VARIANTS = dict(
    cacl={},
    moco_3d_only={'model.contrast_head.pairs': "[('cnn_q','cnn_k')]"},
    sdp_only={'model.contrast_head': 'None'},
    cacl_no_sdp={'model.sdp_head': 'None'},
)
ABLATIONS = ('moco_3d_only', 'sdp_only', 'cacl_no_sdp')
#: Variants whose losses never read the Transformer. Every other variant,
#: one a script adds to VARIANTS included, gets the stage-0 frame encoder:
#: the CACL config's default is a random frozen one (for tests), which a
#: variant must not train on without being told.
WITHOUT_TRANSFORMER = ('moco_3d_only', 'sdp_only')


class Demo:
    """Runs the stages of one seed, each a plain tool in its own process.

    Args:
        out_dir (str): This seed's output folder.
        data_root (str): The embedded benchmark's folder, or with
            ``collection`` the folder where the converted lists go.
        seed (int): ``randomness.seed`` of every stage.
        quiet (bool): Stage banners only; tool logs go to ``demo.log``.
        collection (str, optional): A folder in UCF101's layout
            (``annotations/classInd.txt``, ``trainlist0N.txt``,
            ``testlist0N.txt``, ``videos/``) to use instead of the embedded
            benchmark.
        lists (tuple, optional): ``(train list, test list, video root,
            class names file or None)``: plain MMAction2 lists
            (``path label``) instead of ``collection``; without a names file
            the classes are ``class_0`` .. up to the largest label.
        split (int): The split of ``collection``. Defaults to 1.
        name (str): List file prefix. Defaults to the benchmark's.
        epochs (int, optional): Every training stage's ``max_epochs`` (a
            quick look at the machinery; not the recipe's results).
        jobs (int): Stages run at once where they do not depend on each
            other (:class:`~.stage_graph.StageGraph`); each tool then gets
            ``1 / jobs`` of the CPUs as torch threads unless
            ``OMP_NUM_THREADS`` is set. Defaults to 1.
    """

    def __init__(self,
                 out_dir: str,
                 data_root: str,
                 seed: int,
                 quiet: bool,
                 start: Optional[float] = None,
                 collection: Optional[str] = None,
                 split: int = 1,
                 name: str = NAME,
                 epochs: Optional[int] = None,
                 lists: Optional[Tuple[str, str, str, Optional[str]]] = None,
                 jobs: int = 1) -> None:
        self.out_dir = out_dir
        self.data_root = data_root
        self.seed = seed
        self.quiet = quiet
        self.start = start or time.time()
        self.collection = collection
        self.lists = lists
        self.split = split
        self.name = name
        self.epochs = epochs
        self.log_path = osp.join(out_dir, 'demo.log')
        self._recipe = None
        self.jobs = jobs
        self.threads = tool_threads(jobs)
        self.cancel = threading.Event()
        self._log_lock = threading.Lock()
        self._tool_count = itertools.count(1)
        os.makedirs(out_dir, exist_ok=True)

    # ------------------------------------------------------------ plumbing
    def banner(self, text: str) -> None:
        minutes, seconds = divmod(int(time.time() - self.start), 60)
        print(
            f'\n=== [{minutes:02d}:{seconds:02d}] seed {self.seed}: {text}',
            flush=True)

    def run(self, args: List[str], what: str) -> None:
        """Run a tool (forked from the preloaded :class:`ToolRunner`, as
        ``python TOOL ARGS`` from the repository root). Its output goes to
        a file of its own while it runs (``demo.NN.log``) and is appended
        to demo.log, under its command line, when it ends, so that tools
        running at once do not mix their lines. Unless quiet, a training
        or evaluation stage shows its progress from the structured log its
        Runner writes (mmengine's scalars.json in ``--work-dir``)."""
        work_dir = args[args.index('--work-dir') + 1] \
            if '--work-dir' in args else None
        tail = ScalarsTail(work_dir, time.time()) if work_dir else None
        prefix = f'   [{what}] ' if self.jobs > 1 else '   '

        def show_progress() -> None:
            if tail is not None and not self.quiet:
                for progress in tail.poll():
                    print(prefix + progress, flush=True)

        part = self.path(f'demo.{next(self._tool_count):02d}.log')
        with open(part, 'wb') as log:
            log.write(f'\n$ {" ".join([sys.executable] + args)}\n'.encode())
        script = osp.join(REPO, args[0])
        code = shared_tool_runner().run(
            script,
            args[1:],
            REPO,
            part,
            poll=show_progress,
            threads=self.threads,
            cancel=self.cancel)
        with open(part, 'rb') as f:
            output = f.read()
        with self._log_lock, open(self.log_path, 'ab') as log:
            log.write(output)
        os.remove(part)
        if code != 0:
            if self.cancel.is_set() and code < 0:
                raise RuntimeError(f'{what} stopped: another stage failed')
            last_lines = output.decode(errors='replace').splitlines()[-20:]
            print('\n'.join(last_lines), flush=True)
            raise RuntimeError(f'{what} failed (exit {code}); its last lines '
                               f'are above, all of its output in '
                               f'{self.log_path}')

    def path(self, *parts: str) -> str:
        return osp.join(self.out_dir, *parts)

    def data(self, name: str) -> str:
        return osp.join(self.data_root, name)

    @property
    def train_list(self) -> str:
        if self.lists:
            return self.lists[0]
        return self.data(list_file_names(self.name, self.split)[0])

    @property
    def test_list(self) -> str:
        if self.lists:
            return self.lists[1]
        return self.data(list_file_names(self.name, self.split)[1])

    @property
    def few_label_list(self) -> str:
        return self.data(few_label_list_name(self.name, self.split))

    @property
    def video_root(self) -> str:
        if self.lists:
            return self.lists[2]
        return osp.join(self.collection or self.data_root, 'videos')

    @property
    def class_index(self) -> str:
        return osp.join(self.collection or self.data_root, 'annotations',
                        'classInd.txt')

    def options(self, extra: Dict[str, object]) -> List[str]:
        opts = {'randomness.seed': self.seed, **extra}
        return ['--cfg-options'] + [f'{k}={v}' for k, v in opts.items()]

    @property
    def recipe(self):
        """The tiny configs' schedules sized for this train list (read on
        first use, after stage 1 has written it; :meth:`fit_bound` may
        double its fine-tune budget)."""
        if self._recipe is None:
            self._recipe = SmallScaleRecipe(
                count_videos(self.train_list), epochs=self.epochs)
        return self._recipe

    @recipe.setter
    def recipe(self, recipe) -> None:
        self._recipe = recipe

    def variant_options(self, name: str) -> Dict[str, object]:
        """The CACL config's options for a pretrained variant: its data and
        what the variant changes."""
        return dict(self.pretrain_data(), **VARIANTS[name])

    def pretrain_data(self) -> Dict[str, object]:
        """Data of the CACL config: train list + the check's lists."""
        return {
            'train_dataloader.dataset.ann_file': self.train_list,
            # The config's 10 (motion10's) would refuse a larger label.
            'train_dataloader.dataset.num_classes': self.num_classes,
            'train_dataloader.dataset.data_prefix.video': self.video_root,
            'val_dataloader.dataset.gallery_ann_file': self.train_list,
            'val_dataloader.dataset.query_ann_file': self.test_list,
            'val_dataloader.dataset.data_prefix.video': self.video_root,
            'test_dataloader.dataset.gallery_ann_file': self.train_list,
            'test_dataloader.dataset.query_ann_file': self.test_list,
            'test_dataloader.dataset.data_prefix.video': self.video_root,
        }

    # ------------------------------------------------------------ stages
    def generate(self) -> dict:
        """The benchmark and its static probes (single and mean frames)."""
        if self.collection or self.lists:
            return self.convert()
        self.banner(f'1/5 embedded motion benchmark -> {self.data_root}')
        self.run([
            'tools/data/generate_motion_benchmark.py', self.data_root,
            '--check'
        ], 'benchmark')
        with open(self.data('static_probes.json')) as f:
            return json.load(f)

    def convert(self) -> dict:
        """A collection's split -> lists, a 10% list, the static probes."""
        if self.lists:
            self.banner(f'1/5 lists {self.train_list}, {self.test_list}')
        else:
            self.banner(f'1/5 {self.collection}: split {self.split} -> '
                        f'{self.data_root}')
            self.run([
                'tools/data/convert_ucf101.py',
                osp.join(self.collection,
                         'annotations'), self.data_root, '--video-root',
                self.video_root, '--name', self.name, '--splits',
                str(self.split)
            ], 'list conversion')
        with open(self.train_list) as f:
            train = f.read().splitlines()
        write_list(self.few_label_list,
                   subsample_per_class(train, 0.1, seed=self.split))
        probes = {}
        for mode in ('single', 'mean'):
            probes[f'{mode}_frame_probe'] = frame_probe(
                self.video_root, self.train_list, self.test_list, mode=mode)
        return probes

    def frame_encoder(self) -> str:
        self.banner('2/5 stage 0: MoCo on frames (frozen frame encoder)')
        work = self.path('frame_moco')
        self.run(
            ['tools/train.py', FRAME_CONFIG, '--work-dir', work] +
            self.options({
                'train_dataloader.dataset.ann_file': self.train_list,
                'train_dataloader.dataset.data_prefix.video': self.video_root,
                **self.recipe.frame_options()
            }), 'stage 0')
        return last_checkpoint(work)

    def pretrain(self, name: str, frame_ckpt: str) -> str:
        """Pretrain a variant and export its backbone; the backbone file."""
        self.banner(f'3/5 pretraining: {row_title(name)} (no labels)')
        work = self.path(f'pretrain_{name}')
        opts = self.variant_options(name)
        if name not in WITHOUT_TRANSFORMER:
            opts['model.transformer.frame_encoder_checkpoint'] = frame_ckpt
        self.run(['tools/train.py', CACL_CONFIG, '--work-dir', work] +
                 self.options(dict(opts, **self.recipe.pretrain_options())),
                 f'pretraining {name}')
        backbone = osp.join(work, 'backbone.pth')
        self.run(['tools/export_backbone.py',
                  last_checkpoint(work), backbone], f'export {name}')
        return backbone

    def diagnose(self, name: str) -> Dict[str, object]:
        """The config's representation check on a pretrained variant's
        final weights: edit-distance accuracy and embedding spread."""
        work = self.path(f'pretrain_{name}')
        diag = osp.join(work, 'diagnostics')
        test_opts = {
            k: v
            for k, v in self.variant_options(name).items()
            if k.startswith(('test_', 'model.'))
        }
        os.makedirs(diag, exist_ok=True)
        self.run([
            'tools/evaluate.py', CACL_CONFIG,
            last_checkpoint(work), '--work-dir', diag, '--med-confusion',
            osp.join(diag, 'med_confusion.json')
        ] + self.options(test_opts), f'diagnostics {name}')
        with open(osp.join(diag, 'test_metrics.json')) as f:
            metrics = json.load(f)['metrics']
        row: Dict[str, object] = dict(
            embedding_mean_cosine=metrics.get('mean_cosine'))
        if 'accuracy' in metrics:
            row.update(
                sdp_heldout_acc=metrics['accuracy'],
                sdp_chance=metrics['chance'])
        return row

    def retrieval(self, name: str,
                  backbone: Optional[str]) -> Dict[str, float]:
        """Retrieval R@k and the frozen-feature linear probe."""
        self.banner(f'4/5 retrieval + frozen linear probe: {row_title(name)}')
        work = self.path(f'retrieval_{name}')
        self.run([
            'tools/retrieval.py', CACL_CONFIG, backbone or 'none',
            '--work-dir', work, '--save-topk', '5', '--save-features',
            '--linear-probe', '--video-root', self.video_root,
            '--gallery-list', self.train_list, '--query-list', self.test_list
        ] + self.options({}), f'retrieval {name}')
        with open(osp.join(work, 'retrieval.json')) as f:
            result = json.load(f)
        out = {
            f'retrieval_r{k}': result['metrics'][f'R@{k}']
            for k in (1, 5, 10, 20, 50)
        }
        out['frozen_probe_top1'] = result['linear_probe']['test_acc']
        if result.get('query_neighbours'):
            out['query_neighbours'] = result['query_neighbours']
        return out

    def finetune(self,
                 name: str,
                 backbone: Optional[str],
                 few_labels: bool = False,
                 score_train: bool = False) -> Dict[str, float]:
        """Fine-tune with all (or 10% of the) train labels, then test;
        with ``score_train`` also on the train list (``train_top1``: did
        the schedule fit the labels it saw?)."""
        which = '10% of the labels' if few_labels else 'all labels'
        self.banner(f'5/5 fine-tuning with {which}: {row_title(name)}')
        # A doubled budget runs in its own folder (the earlier try stays).
        scale = self.recipe.finetune_scale
        work = self.path(f'finetune{"_10pct" if few_labels else ""}_{name}' +
                         (f'_x{scale}' if scale > 1 else ''))
        config = FEW_LABEL_CONFIG if few_labels else FINETUNE_CONFIG
        opts = {
            'train_dataloader.dataset.ann_file':
            self.few_label_list if few_labels else self.train_list,
            'model.cls_head.num_classes':
            self.num_classes,
        }
        for split in ('train', 'val', 'test'):
            if split != 'train':
                opts[f'{split}_dataloader.dataset.ann_file'] = self.test_list
            opts[f'{split}_dataloader.dataset.data_prefix.video'] = \
                self.video_root
            opts[f'{split}_dataloader.dataset.num_classes'] = \
                self.num_classes
        if backbone:
            opts['model.backbone.pretrained'] = backbone
        else:
            opts.update(circular_shift_off(config))
        self.run(['tools/train.py', config, '--work-dir', work] +
                 self.options(dict(opts, **self.recipe.finetune_options())),
                 f'fine-tuning {name}')
        test_opts = {
            k: v
            for k, v in opts.items()
            if k.startswith(('test_', 'model.cls_head.'))
        }
        self.run([
            'tools/evaluate.py', config,
            last_checkpoint(work), '--work-dir', work
        ] + self.options(test_opts), f'testing {name}')
        with open(osp.join(work, 'test_metrics.json')) as f:
            metrics = json.load(f)['metrics']
        if few_labels:
            return dict(finetune_10pct_top1=metrics['top1'])
        row = dict(
            finetune_top1=metrics['top1'],
            finetune_mean_class_acc=metrics['mean1'],
            checkpoint=last_checkpoint(work))
        if score_train:
            train_work = osp.join(work, 'train_split')
            test_opts['test_dataloader.dataset.ann_file'] = self.train_list
            self.run([
                'tools/evaluate.py', config,
                last_checkpoint(work), '--work-dir', train_work
            ] + self.options(test_opts), f'scoring {name} on its train list')
            with open(osp.join(train_work, 'test_metrics.json')) as f:
                row['train_top1'] = json.load(f)['metrics']['top1']
        return row

    def fit_bound(self) -> Dict[str, object]:
        """The random-init fine-tune, which is also the supervised bound,
        with every label; while it fits less than ``FIT_TARGET`` of its own
        train videos the fine-tune budget doubles (``MAX_FIT_DOUBLINGS``
        times at most) and it runs again; a try that stalled at its trivial
        loss (:func:`~cacl_mm.apis.recipe.stalled`) also gets the long
        warm-up for the next. Every later fine-tune (CACL's, the 10%-label
        ones) uses the schedule it settled on.

        Returns:
            dict: the last try's row, with ``fit_attempts`` (steps, epochs,
            warm-up epochs, train and test top-1 of each try, and whether a
            missed try stalled).
        """
        attempts = []
        while True:
            row = self.finetune('random_init', None, score_train=True)
            attempt = dict(
                steps=self.recipe.finetune_steps,
                epochs=self.recipe.finetune_epochs,
                warmup_epochs=self.recipe.warmup_epochs,
                train_top1=row['train_top1'],
                finetune_top1=row['finetune_top1'])
            attempts.append(attempt)
            if row['train_top1'] >= FIT_TARGET or not self.recipe.can_double:
                break
            attempt['stalled'] = self.stalled(osp.dirname(row['checkpoint']))
            recipe = self.recipe.doubled()
            what = f'doubling the fine-tune steps to {recipe.finetune_steps}'
            if attempt['stalled'] and not recipe.warmup_floor_steps:
                recipe = recipe.with_long_warmup()
                what = (f'its loss stalled at ln {self.num_classes}: '
                        f'{what}, warm-up {recipe.warmup_epochs} epochs')
            self.banner(
                f'the supervised bound fits {100 * row["train_top1"]:.1f}% '
                f'of its train videos (< {100 * FIT_TARGET:.0f}%): {what}')
            self.recipe = recipe
        return dict(row, fit_attempts=attempts)

    def stalled(self, work_dir: str) -> bool:
        """Whether the fine-tune in ``work_dir`` (run with ``self.recipe``)
        sat at its trivial loss after its warm-up."""
        steps, losses = load_curves(work_dir, keys=('loss', ))['loss']
        return stalled(
            steps, losses, self.num_classes,
            self.recipe.warmup_epochs * self.recipe.finetune_steps_per_epoch)

    def figures(self, names: List[str]) -> Dict[str, str]:
        """The PNGs into the output folder; name -> file name."""
        self.banner('figures: curves, retrieval grid, embedding map, '
                    'edit-distance confusion')
        classes = self.path('classes.txt')
        pretrained = [n for n in names if n in VARIANTS]
        out = dict(
            curves='curves.png',
            retrieval_grid='retrieval_grid.png',
            embedding_map='embedding_map.png',
            med_confusion='med_confusion.png')
        self.run(['tools/plot_curves.py'] +
                 [self.path(f'pretrain_{n}') for n in pretrained] +
                 ['--labels'] + [row_title(n) for n in pretrained] +
                 ['--smooth', '3', '--out',
                  self.path(out['curves'])], 'curves')
        self.run([
            'tools/visualize_retrieval.py',
            self.path('retrieval_cacl'), '--classes', classes, '--out',
            self.path(out['retrieval_grid'])
        ], 'retrieval grid')
        self.run(['tools/embedding_map.py'] + [
            f'{row_title(n)}={self.path(f"retrieval_{n}")}'
            for n in ('random_init', 'cacl', 'supervised')
        ] + [
            '--classes', classes, '--seed',
            str(self.seed), '--out',
            self.path(out['embedding_map'])
        ], 'embedding map')
        self.run([
            'tools/med_confusion.py',
            self.path('pretrain_cacl', 'diagnostics', 'med_confusion.json'),
            '--out',
            self.path(out['med_confusion'])
        ], 'edit-distance confusion')
        return out

    def verdict(self, results: dict) -> dict:
        """Did CACL help, and if not, the signals that say why."""
        signals = curve_signals(load_curves(self.path('pretrain_cacl')))
        temperature = dumped_temperature(self.path('pretrain_cacl'))
        if temperature is not None:
            signals['temperature'] = temperature
        return dict(judge(results, signals).to_dict(), signals=signals)

    @functools.cached_property
    def class_names(self) -> List[str]:
        """The classes of ``classInd.txt`` (or of the lists), in label order.

        Read on first use (after stage 1 has written the benchmark's)."""
        if self.lists:
            if self.lists[3]:
                return read_class_names(self.lists[3])
            labels = []
            for path in (self.train_list, self.test_list):
                with open(path) as f:
                    labels += [
                        int(line.split()[-1]) for line in f if line.strip()
                    ]
            return [f'class_{i}' for i in range(max(labels) + 1)]
        index = parse_class_index(self.class_index)
        return sorted(index, key=index.get)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def write_class_names(self) -> str:
        """classInd.txt -> classes.txt (one name per line, by label)."""
        path = self.path('classes.txt')
        with open(path, 'w') as f:
            f.write('\n'.join(self.class_names) + '\n')
        return path

    # ------------------------------------------------------------ the job
    def main_job(self, ablate: bool, figures: bool = True) -> dict:
        """Every stage for one seed; writes and returns the results."""
        probes = self.generate()
        # The lists are read here, once, before stages run at once and
        # share what they say: the class names and the recipe's sizes.
        self.write_class_names()
        self.recipe = self.recipe
        names = ['random_init', 'cacl'] + (list(ABLATIONS) if ablate else [])
        stages = self.stage_graph(names)
        values = stages.run()
        results: Dict[str, object] = dict(seed=self.seed, **probes)
        for name in names:
            row: Dict[str, object] = {}
            for key in ('diagnose', 'retrieval', 'finetune', 'fit_bound',
                        'finetune_10pct'):
                row.update(values.get(f'{key} {name}', {}))
            results[name] = row
        # The supervised upper bound: the random-init backbone trained with
        # all labels (the random-init fine-tuning run), evaluated as a
        # representation like the pretrained ones.
        random_row = results['random_init']
        for name in names:
            results[name].pop('checkpoint', None)
            if name != 'random_init' and 'train_top1' in results[name]:
                results[name]['finetune_train_top1'] = results[name].pop(
                    'train_top1')
        supervised = {
            k:
            random_row.pop(k) if k in ('train_top1',
                                       'fit_attempts') else random_row[k]
            for k in ('finetune_top1', 'finetune_mean_class_acc',
                      'finetune_10pct_top1', 'train_top1', 'fit_attempts')
        }
        supervised.update(values['retrieval supervised'])
        results['supervised'] = supervised
        names.insert(2, 'supervised')
        if figures:
            results['figures'] = self.figures(names)
        results['dataset'] = (
            self.collection or (self.lists and self.lists[0])
            or 'Embedded motion benchmark')
        results['num_classes'] = self.num_classes
        results['split'] = self.split
        if self.epochs:
            results['epochs'] = self.epochs
        results['num_train_videos'] = count_videos(self.train_list)
        results['num_test_videos'] = count_videos(self.test_list)
        results['recipe'] = self.recipe.summary()
        results['verdict'] = self.verdict(results)
        results['elapsed_s'] = time.time() - self.start
        with open(self.path('results.json'), 'w') as f:
            json.dump(results, f, indent=2)
        with open(self.path('results.md'), 'w') as f:
            f.write('# cacl-mm demo results\n\n' + markdown(results))
        return results

    def stage_graph(self, names: List[str]) -> StageGraph:
        """The stages after stage 1 and what each needs.

        The pretraining chain is the longest, so its stages are added
        first; the random-init rows run beside it. Every other fine-tune
        (random init's 10%-label one too) waits for the supervised bound,
        whose fit settles the budget they all use: rows compared with
        each other must share it.
        """
        graph = StageGraph(self.jobs, cancel=self.cancel)
        pretrained = [n for n in names if n != 'random_init']
        frame = graph.add('frame encoder', self.frame_encoder)
        backbones = {
            name:
            graph.add(
                f'pretrain {name}',
                lambda n=name: self.pretrain(n, frame.result()),
                after=[frame])
            for name in pretrained
        }
        graph.add('retrieval random_init',
                  lambda: self.retrieval('random_init', None))
        bound = graph.add('fit_bound random_init', self.fit_bound)
        graph.add(
            'finetune_10pct random_init',
            lambda: self.finetune('random_init', None, few_labels=True),
            after=[bound])
        graph.add(
            'retrieval supervised',
            lambda: self.retrieval('supervised',
                                   bound.result()['checkpoint']),
            after=[bound])
        for name, backbone in backbones.items():
            # Longest first: the full fine-tune, then the 10% one. Its fit
            # of its own train videos, beside the bound's, tells a start
            # that over-fits from one that is under-trained (the verdict).
            graph.add(
                f'finetune {name}',
                lambda n=name, b=backbone: self.finetune(
                    n, b.result(), score_train=True),
                after=[backbone, bound])
            graph.add(
                f'finetune_10pct {name}',
                lambda n=name, b=backbone: self.finetune(
                    n, b.result(), few_labels=True),
                after=[backbone, bound])
            graph.add(
                f'retrieval {name}',
                lambda n=name, b=backbone: self.retrieval(n, b.result()),
                after=[backbone])
            graph.add(
                f'diagnose {name}',
                lambda n=name: self.diagnose(n),
                after=[backbone])
        return graph


def default_jobs() -> int:
    """Two stages at once, unless this process may use one CPU only."""
    return 2 if usable_cpus() > 1 else 1


def tool_threads(jobs: int) -> Optional[int]:
    """Torch threads for each of ``jobs`` tools running at once: an equal
    share of the CPUs this process may use; None (torch's default) for one
    tool at a time or when ``OMP_NUM_THREADS`` says."""
    if jobs == 1 or 'OMP_NUM_THREADS' in os.environ:
        return None
    return max(1, usable_cpus() // jobs)


@functools.lru_cache(maxsize=None)
def shared_tool_runner() -> ToolRunner:
    """One fork server for every stage of every seed."""
    return ToolRunner()


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint named in mmengine's ``last_checkpoint`` file."""
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def dumped_temperature(work_dir: str) -> Optional[float]:
    """The contrastive temperature of the config a training run dumped.

    mmengine's Runner writes the resolved config as ``<config name>.py`` at
    the top of its work dir; the newest one is the run's. None where there
    is none, or it has no ``model.contrast_head.temperature``.
    """
    from mmengine.config import Config
    dumped = [
        osp.join(work_dir, name) for name in os.listdir(work_dir)
        if name.endswith('.py')
    ] if osp.isdir(work_dir) else []
    if not dumped:
        return None
    cfg = Config.fromfile(max(dumped, key=osp.getmtime))
    head = cfg.get('model', {}).get('contrast_head') or {}
    temperature = head.get('temperature')
    return None if temperature is None else float(temperature)


def row_title(name: str) -> str:
    """A row's title in the table."""
    return ROW_NAMES[name]
