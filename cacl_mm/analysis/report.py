"""The demo's report: the results table of one seed and the study table
of several (``tools/demo.py`` writes them to ``results.md`` / ``study.md``)."""
from __future__ import annotations
from typing import Dict, Optional, Sequence

import numpy as np

from ..apis.recipe import STALL_WARMUP_STEPS
from .verdict import verdict_markdown

#: Columns of the table: (key in results.json, header).
COLUMNS = (('retrieval_r1', 'R@1'), ('retrieval_r5', 'R@5'),
           ('retrieval_r10', 'R@10'), ('retrieval_r20', 'R@20'),
           ('retrieval_r50', 'R@50'), ('frozen_probe_top1',
                                       'frozen linear probe'),
           ('finetune_top1', 'fine-tune top-1'), ('finetune_mean_class_acc',
                                                  'fine-tune mean class acc'),
           ('finetune_10pct_top1', 'fine-tune 10% labels top-1'),
           ('sdp_heldout_acc',
            'edit-distance acc (held out)'), ('embedding_mean_cosine',
                                              'embedding mean cosine'))
ROW_NAMES = dict(
    random_init='random init',
    cacl='CACL',
    supervised='supervised (upper bound)',
    moco_3d_only='3D-only MoCo + edit distance',
    sdp_only='edit distance only',
    cacl_no_sdp='CACL without edit distance')


def percent(value: Optional[float]) -> str:
    return '-' if value is None else f'{100 * value:.1f}'


def markdown(results: dict) -> str:
    """The results table (percentages) and notes of one seed."""
    lines = [
        '| model | ' + ' | '.join(h for _, h in COLUMNS) + ' |',
        '|' + ' --- |' * (len(COLUMNS) + 1)
    ]
    for name, title in ROW_NAMES.items():
        if name in results:
            lines.append(f'| {title} | ' + ' | '.join(
                percent(results[name].get(k)) for k, _ in COLUMNS) + ' |')
    notes = [
        '',
        f"{results.get('dataset', 'Embedded motion benchmark')} "
        f"({results.get('num_classes', 10)} classes, split "
        f"{results.get('split', 1)}: "
        f"{results['num_train_videos']} train / {results['num_test_videos']} "
        f"test videos), seed {results['seed']}, "
        f"{results['elapsed_s'] / 60:.1f} min on this machine. Percentages; "
        'the embedding mean cosine is that of the projected CACL embeddings '
        'of different held-out clips (1.0 = collapse).',
    ]
    if results.get('epochs'):
        notes.append(f"Every training stage ran {results['epochs']} epoch(s) "
                     '(--epochs): a look at the machinery, not the recipe\'s '
                     'results.')
    for key, what in (('single_frame_probe', 'Single-frame'),
                      ('mean_frame_probe', 'Mean-frame')):
        probe = results.get(key)
        if probe:
            notes.append(
                f"{what} linear probe: {100 * probe['test_acc']:.1f}% test "
                f"accuracy (chance {100 * probe['chance']:.1f}%).")
    if results.get('recipe'):
        recipe = results['recipe']
        notes.append(
            f"Schedules for {recipe['num_train_videos']} train videos "
            f"(cacl_mm.apis.recipe): stage 0 {recipe['frame_epochs']}, "
            f"pretraining {recipe['pretrain_epochs']}, fine-tuning "
            f"{recipe['finetune_epochs']} epochs.")
    bound = results.get('supervised', {}).get('train_top1')
    if bound is not None:
        notes.append(f'The supervised bound fits {100 * bound:.1f}% of its '
                     'own train videos (train top-1, 5-clip test).')
    cacl_fit = results.get('cacl', {}).get('finetune_train_top1')
    if cacl_fit is not None:
        notes.append(f"CACL's full fine-tune fits {100 * cacl_fit:.1f}% of "
                     'its own train videos.')
    attempts = results.get('supervised', {}).get('fit_attempts') or []
    if len(attempts) > 1:
        tries = '; '.join(
            f"{a['steps']} steps: {100 * a['train_top1']:.1f}%" +
            (' (its loss stalled at ln C)' if a.get('stalled') else '')
            for a in attempts)
        notes.append('Its fine-tune budget doubled until it fit (train '
                     f'top-1 by budget: {tries}); every fine-tune above used '
                     'the last one.')
        if any(a.get('stalled') for a in attempts):
            notes.append(
                'A try that stalled at its trivial loss made the later ones '
                f'warm up over at least {STALL_WARMUP_STEPS} steps '
                f"({attempts[-1].get('warmup_epochs')} epochs).")
    if results.get('verdict'):
        notes += ['', verdict_markdown(results['verdict']).rstrip()]
    figures = results.get('figures') or {}
    titles = dict(
        curves='Pretraining curves: losses, collapse monitor and '
        'the representation check',
        retrieval_grid='Retrieval: test queries and their top-5 '
        'train neighbours (green hit, red miss), CACL',
        embedding_map='t-SNE of test-split features: random init, '
        'CACL, supervised',
        med_confusion='Edit-distance confusion matrix (CACL, '
        'held-out clips)')
    for key, name in figures.items():
        notes += ['', f'### {titles[key]}', '', f'![{key}]({name})']
    return '\n'.join(lines + notes) + '\n'


def study_summary(per_seed: Sequence[dict]) -> dict:
    """Mean and sample standard deviation of every row and metric."""
    summary: Dict[str, object] = dict(seeds=[r['seed'] for r in per_seed])
    for name in ROW_NAMES:
        if not all(name in r for r in per_seed):
            continue
        row = {}
        for key, _ in COLUMNS:
            values = [r[name].get(key) for r in per_seed]
            if any(v is None for v in values):
                continue
            row[key] = dict(
                mean=float(np.mean(values)),
                sd=float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
                values=[float(v) for v in values])
        summary[name] = row
    for key in ('single_frame_probe', 'mean_frame_probe'):
        summary[key] = per_seed[0].get(key)
    summary['elapsed_s'] = [r['elapsed_s'] for r in per_seed]
    return summary


def study_markdown(summary: dict) -> str:
    """The study table: mean +- sd over seeds (percentages)."""
    lines = [
        '| model | ' + ' | '.join(h for _, h in COLUMNS) + ' |',
        '|' + ' --- |' * (len(COLUMNS) + 1)
    ]
    for name, title in ROW_NAMES.items():
        row = summary.get(name)
        if not row:
            continue
        cells = []
        for key, _ in COLUMNS:
            stat = row.get(key)
            cells.append('-' if stat is None else
                         f"{100 * stat['mean']:.1f} ± {100 * stat['sd']:.1f}")
        lines.append(f'| {title} | ' + ' | '.join(cells) + ' |')
    seeds = ', '.join(str(s) for s in summary['seeds'])
    total = sum(summary['elapsed_s']) / 60
    lines += [
        '', f'Seeds {seeds}; mean ± sample standard deviation; '
        f'{total:.0f} min of wall time in all.'
    ]
    return '\n'.join(lines) + '\n'
