"""A plain-language verdict on one demo run: did CACL help, and if not, why.

``tools/demo.py`` ends every run with it (``results.md``, ``results.json``:
``verdict``). It compares CACL with random init on the two label-free
readouts (retrieval R@1, frozen linear probe), looks at the spread of the
embeddings, and reads the pretraining curves the representation check
already logs, so that a run that did not work says so, names the signal
that shows it, the likely cause, and what to try.
"""
from __future__ import annotations
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..apis.recipe import FIT_TARGET

#: CACL must beat random init by this much (fraction) in R@1 and in the
#: frozen probe to count as ahead.
MARGIN = 0.05
#: Mean cosine between held-out embeddings at or above which they are near
#: collapse (random init's projected embeddings sit near 0).
COLLAPSE_COSINE = 0.6
#: A loss that fell by less than this fraction of its first value did not
#: move.
FLAT_LOSS_DROP = 0.05
#: cos_cnn_q (mean cosine within a batch of 3D embeddings) at or above this
#: at the end of pretraining: the batch was not spread.
HIGH_BATCH_COSINE = 0.6
#: A supervised bound that fits at least this much of its train list has
#: trained; if its test top-1 then stays within ``MARGIN`` of chance, the
#: classes did not generalise even with every label.
BOUND_TRAINED_TOP1 = 0.8
#: The edit-distance head must beat chance by this factor.
SDP_OVER_CHANCE = 1.5
#: A single-frame probe this far above chance means appearance alone
#: separates the classes.
STATIC_GAP = 0.15
#: How far a full fine-tune's own seed moves its test top-1 on a few
#: hundred test videos: 3 points for one start on motion10 (93.5-96.5 over
#: fine-tune seeds, docs/recipe_rules.md). A gap to random init larger than
#: this is not one fine-tune's draw.
FINETUNE_SEED_SPREAD = 0.03
#: CACL's fine-tune fits its train videos as well as random init's when its
#: train top-1 is at most this below.
FIT_TOLERANCE = 0.01


@dataclass
class Finding:
    """One signal: what was measured, what it likely means, what to try."""
    signal: str
    cause: str
    advice: str


@dataclass
class Verdict:
    """The outcome of a run and the findings behind it.

    Attributes:
        status (str): ``'ahead'`` (both margins met, no collapse),
            ``'behind'`` (not ahead, or near collapse).
        headline (str): One sentence for the top of ``results.md``.
        findings (list[Finding]): The signals that explain it, strongest
            first; empty when everything looks healthy.
    """
    status: str
    headline: str
    findings: List[Finding] = field(default_factory=list)

    def to_dict(self) -> Dict[str, object]:
        return asdict(self)


def _ends(values: Sequence[float], share: float = 0.1) -> tuple:
    """Mean of the first and of the last ``share`` of a curve's points."""
    values = np.asarray(values, dtype=float)
    n = max(1, int(round(len(values) * share)))
    return float(values[:n].mean()), float(values[-n:].mean())


def curve_signals(curves: Dict[str, tuple]) -> Dict[str, object]:
    """The pretraining curves reduced to the numbers the verdict reads.

    Args:
        curves (dict): ``{key: (steps, values)}`` as
            :func:`cacl_mm.visualization.curves.load_curves` returns.

    Returns:
        dict: ``loss_contrast`` and ``cos_cnn_q`` as ``(start, end)`` (means
        of the first and last 10% of logged points), and the checks'
        ``check_r1`` / ``check_cosine`` lists, for the keys present.
    """
    out: Dict[str, object] = {}
    for key in ('loss_contrast', 'cos_cnn_q'):
        if key in curves and len(curves[key][1]):
            out[key] = _ends(curves[key][1])
    for key, name in (('retrieval/R@1', 'check_r1'), ('embedding/mean_cosine',
                                                      'check_cosine')):
        if key in curves:
            out[name] = [float(v) for v in curves[key][1]]
    return out


def _points(value: float) -> str:
    return f'{100 * value:+.1f}'


def _gap(cacl: Dict, random_row: Dict, key: str) -> Optional[float]:
    """CACL's ``key`` minus random init's; None when either lacks it."""
    if cacl.get(key) is None or random_row.get(key) is None:
        return None
    return cacl[key] - random_row[key]


def finetune_finding(gap: float, cacl: Dict, random_row: Dict,
                     supervised: Dict) -> Finding:
    """The finding for a full fine-tune of CACL below random init's.

    Both fine-tunes' fit of their own train videos (CACL's
    ``finetune_train_top1``, random init's in the bound's ``train_top1``)
    tell the causes apart once the gap exceeds a fine-tune seed's spread:
    a start that fits its train videos as well and tests worse over-fits
    what the train videos share; one that fits fewer is under-trained.

    Args:
        gap (float): CACL's full fine-tune top-1 minus random init's (< 0).
        cacl (dict): CACL's row (``finetune_top1``, maybe
            ``finetune_train_top1``).
        random_row (dict): Random init's row (``finetune_top1``).
        supervised (dict): The bound's row (maybe ``train_top1``).

    Returns:
        Finding: The gap, the likely cause and what to try.
    """
    signal = (f'CACL\'s full fine-tune is {_points(gap)} points against '
              f'random init\'s ({100 * cacl["finetune_top1"]:.1f}% against '
              f'{100 * random_row["finetune_top1"]:.1f}%).')
    fit, bound_fit = cacl.get('finetune_train_top1'), supervised.get(
        'train_top1')
    if fit is not None and bound_fit is not None:
        signal += (f' It fits {100 * fit:.1f}% of its train videos, random '
                   f'init\'s {100 * bound_fit:.1f}%.')
        if gap <= -FINETUNE_SEED_SPREAD:
            if fit >= bound_fit - FIT_TOLERANCE:
                return Finding(
                    signal, 'The pretrained start fits its train videos as '
                    'well and generalises worse: from CACL\'s features the '
                    'labels are fitted partly through what the train '
                    'videos\' groups share (scene, camera, clutter), which '
                    'new videos do not (measured on large12, busy8 and '
                    'vocab20, docs/recipe_rules.md).', 'On this collection '
                    'fine-tune from random init; CACL\'s representation is '
                    'read by its R@1 and frozen probe.')
            return Finding(
                signal, 'The fine-tune from CACL\'s start fits fewer of its '
                'train videos: the schedule is short for this start.',
                'Fine-tune CACL longer (train_cfg.max_epochs with the '
                'schedulers) and compare again.')
    return Finding(
        signal, 'With every label both fine-tunes end near the ceiling, '
        'where one fine-tune\'s own seed moves top-1 by a few points on a '
        'few hundred test videos; a gap that stays across fine-tune seeds '
        'means the pretrained weights start this schedule in a worse place.',
        'Rerun both fine-tunes with other seeds (randomness.seed) before '
        'concluding; the 10%-label column shows what the pretraining adds '
        'when labels are scarce.')


def judge(results: Dict[str, object],
          signals: Optional[Dict[str, object]] = None) -> Verdict:
    """The verdict of one demo run.

    Args:
        results (dict): The demo's ``results.json`` content: rows
            ``random_init``, ``cacl``, ``supervised`` and the static probes.
        signals (dict, optional): :func:`curve_signals` of CACL's
            pretraining work dir, and its ``temperature`` (the contrastive
            head's, from the config the run dumped) where known.

    Returns:
        Verdict: Status, headline and findings.
    """
    signals = signals or {}
    random_row: Dict = results['random_init']  # type: ignore[assignment]
    cacl: Dict = results['cacl']  # type: ignore[assignment]
    r1_gap = cacl['retrieval_r1'] - random_row['retrieval_r1']
    probe_gap = cacl['frozen_probe_top1'] - random_row['frozen_probe_top1']
    cosine = cacl.get('embedding_mean_cosine')
    collapsed = cosine is not None and cosine >= COLLAPSE_COSINE
    ahead = r1_gap >= MARGIN and probe_gap >= MARGIN and not collapsed
    gaps = (f'{_points(r1_gap)} points of R@1 and {_points(probe_gap)} in '
            'the frozen probe over random init')
    if ahead:
        headline = (f'CACL helps on this collection: {gaps}, embeddings '
                    f'spread (mean cosine {cosine:.2f}).')
    else:
        headline = f'CACL is not ahead of random init here: {gaps}'
        headline += (f'; its embeddings are near collapse (mean cosine '
                     f'{cosine:.2f}, 1 = collapse).' if collapsed else '.')
    findings: List[Finding] = []
    loss = signals.get('loss_contrast')
    if loss and loss[0] > 0 and (loss[0] - loss[1]) / loss[0] < \
            FLAT_LOSS_DROP:
        findings.append(
            Finding(
                f'The contrastive loss stayed near its starting value '
                f'({loss[0]:.2f} -> {loss[1]:.2f}).',
                'The two views of a clip were not told apart from other '
                'clips: the pretraining made too few steps, or the '
                'learning rate does not suit this collection.',
                'Pretrain longer (train_cfg.max_epochs, with '
                'param_scheduler.0.T_max and .end), or halve and double '
                'optim_wrapper.optimizer.lr.'))
    batch_cos = signals.get('cos_cnn_q')
    batch_alike = bool(batch_cos) and batch_cos[1] >= HIGH_BATCH_COSINE
    if batch_alike:
        findings.append(
            Finding(
                f'The 3D embeddings of a batch stayed alike (cos_cnn_q '
                f'{batch_cos[0]:.2f} -> {batch_cos[1]:.2f}).',
                'The 3D CNN maps different clips to nearly one direction: '
                'what separates them here (motion) is not what it learnt.',
                'Look at the curves (curves.png); if the edit-distance '
                'loss fell while this stayed high, the contrastive pairs '
                'are the weak part: more pretraining steps first.'))
    checks = signals.get('check_r1') or []
    if not ahead and len(checks) >= 2 and checks[-1] - checks[0] < 0.02:
        findings.append(
            Finding(
                'Retrieval R@1 in the representation checks did not rise '
                f'({", ".join(f"{100 * v:.1f}" for v in checks)}).',
                'Pretraining did not improve the representation of '
                'held-out videos at any point.',
                'Compare with random init\'s R@1 above; if both are near '
                'chance, check that the classes differ by motion a 3D CNN '
                'sees at this resolution and clip length.'))
    if collapsed and not batch_alike:  # one finding says it already
        temperature = signals.get('temperature')
        used_temperature = ('' if temperature is None else
                            f' (this run: {float(temperature):g})')
        findings.append(
            Finding(
                f'Held-out embeddings are near collapse (mean cosine '
                f'{cosine:.2f}).', 'The mean cosine is the squared length '
                'of the embeddings\' mean: most of each embedding is an '
                'offset they all share. The contrastive loss cannot see a '
                'shared offset; a network grows one to soften its logits, '
                'as a higher temperature would, when its positive pairs '
                'are hard to match (the background swap makes half of them '
                'so), or it maps unseen videos to nearly one point.',
                'Raise model.contrast_head.temperature'
                f'{used_temperature} (0.2 let the offset grow to '
                '0.44-0.53 on the benchmark family where 0.4 halved it) and '
                'pretrain longer; a collection with few groups (nuisance '
                'draws) may need more of them.'))
    neighbours = cacl.get('query_neighbours') or {}
    scene_led = neighbours.get('same_group_other_class', 0.)
    action_led = neighbours.get('same_class_other_group', 0.)
    if not ahead and scene_led > action_led:
        findings.append(
            Finding(
                f'The nearest other test video of {100 * scene_led:.1f}% '
                'of the test videos shares its group (scene, actor) but '
                f'not its class; of {100 * action_led:.1f}%, its class '
                'from another group.',
                'The two views of a clip share its scene, so the '
                'contrastive task is solved in part by the scene: the '
                'features follow what a group shares more than the motion.',
                'Check the retrieval grid (retrieval_grid.png) for misses '
                'that look like the query; more groups per class make the '
                'scene a weaker cue.'))
    supervised: Dict = results.get('supervised') or {}  # type: ignore
    bound, bound_test = supervised.get('train_top1'), supervised.get(
        'finetune_top1')
    num_classes = results.get('num_classes')
    class_chance = 1 / num_classes if num_classes else None
    if (bound is not None and bound >= BOUND_TRAINED_TOP1
            and bound_test is not None and class_chance is not None
            and bound_test < class_chance + MARGIN):
        # The strongest finding: with this, no pretraining can show.
        findings.insert(
            0,
            Finding(
                f'With every label, the supervised bound fits '
                f'{100 * bound:.1f}% of its train videos but only '
                f'{100 * bound_test:.1f}% of the test videos (chance '
                f'{100 * class_chance:.1f}%).',
                'The network memorises the train videos without learning '
                'the classes: at this input size, clip length and number '
                'of videos the classes are not learnable, so neither CACL '
                'nor random init can be judged here.',
                'Give the network more of the motion (a larger input than '
                'the tiny recipe\'s 32 px, Resize in the pipelines; a longer '
                'clip) or more videos per class before comparing '
                'pretrainings.'))
    elif bound is not None and bound < FIT_TARGET:
        tries = len(supervised.get('fit_attempts') or [])
        budget = (f' after {tries} fine-tune budgets, each twice the last'
                  if tries > 1 else '')
        findings.append(
            Finding(
                f'The supervised bound fits only {100 * bound:.1f}% of '
                f'its own train videos{budget}.',
                'The fine-tuning schedule is too short (or its learning '
                'rate too high) for a network trained from scratch here, '
                'so the "upper bound" row is no bound.',
                'Fine-tune longer (train_cfg.max_epochs with the '
                'schedulers) before reading the fine-tune columns.'))
    finetune_gap = _gap(cacl, random_row, 'finetune_top1')
    if finetune_gap is not None and finetune_gap < 0:
        findings.append(
            finetune_finding(finetune_gap, cacl, random_row,
                             results.get('supervised', {})))
    sdp = cacl.get('sdp_heldout_acc')
    chance = cacl.get('sdp_chance')
    if sdp is not None and chance and sdp < SDP_OVER_CHANCE * chance:
        findings.append(
            Finding(
                f'The edit-distance head is near chance on held-out clips '
                f'({100 * sdp:.1f}% against {100 * chance:.1f}%).',
                'The 3D CNN did not learn the frame order of these videos.',
                'Check that consecutive sampled frames differ (a slow '
                'motion needs a larger SampleFrames frame_interval).'))
    static = results.get('single_frame_probe')
    if static and static['test_acc'] - static['chance'] >= STATIC_GAP:
        findings.append(
            Finding(
                f'A linear probe on single frames reaches '
                f'{100 * static["test_acc"]:.1f}% (chance '
                f'{100 * static["chance"]:.1f}%).',
                'Appearance alone separates these classes, so random '
                'init features are already strong and a motion-oriented '
                'pretraining has less to add.',
                'Judge CACL by the fine-tune columns here.'))
    return Verdict('ahead' if ahead else 'behind', headline, findings)


def verdict_markdown(verdict: Dict[str, object]) -> str:
    """The ``## Verdict`` section of ``results.md`` (from ``to_dict()``)."""
    lines = ['## Verdict', '', str(verdict['headline'])]
    findings: List[Dict] = verdict.get('findings') or []  # type: ignore
    if findings:
        lines.append('')
        for f in findings:
            lines.append(f"- {f['signal']} Likely cause: {f['cause']} "
                         f"Try: {f['advice']}")
    return '\n'.join(lines) + '\n'
