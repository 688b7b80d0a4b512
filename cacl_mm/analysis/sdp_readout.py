"""Frozen-feature readouts of the shuffle degree (edit distance).

The edit-distance head's held-out accuracy can be low because the head is
badly trained or because its input does not carry the distance. To tell
the two apart, :func:`measure_sdp_readouts` freezes a backbone, encodes
clips and their shuffled twins (``ShuffleByMED``) and fits fresh
``ShuffleDegreeHead`` classifiers on what different heads would read:

* ``'difference'``: the pooled last-stage features, as the default head;
* ``'alignment_layer{k}'`` (``'alignment_stage{i}'`` for a backbone
  without ``out_indices``): per-time-slot features of each backbone output
  (``model.backbone.out_indices`` sets which stages there are), compared
  slot by slot (:class:`AlignmentReadout`: the cosine between every time
  slot of a clip and of its twin);
* ``'alignment_pixels'``: the same on the input frames themselves, no
  network: how much of the distance the clips show at all.

Each readout is trained on train-split clips under several shuffle draws
and scored on held-out clips under other draws; the pretrained head (if the
model has one) is scored on the same held-out pairs.
"""
from __future__ import annotations
import copy
from typing import Callable, Dict, Iterable, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from ..apis.config_utils import find_transform
from ..evaluation.probes import fit_classifier
from ..models.heads import ShuffleDegreeHead
from ..models.utils.encoders import concat_twins, with_twins
from ..models.utils.pooling import pool_features

#: A readout's source: (N, 2F) ``[orig | twin]`` features and time slots.
Source = Tuple[torch.Tensor, int]


class AlignmentReadout(nn.Module):
    """An MLP on the alignment of a clip's time slots with its twin's.

    The edit distance is a function of the permutation, which the S x S
    matrix of slot-to-slot cosines shows directly; this readout asks how
    much of it a stage's per-slot features keep. Only the study uses it:
    as a training head it lifted the distance's accuracy and cost the
    representation (docs/recipe_study.md).

    Args:
        in_channels (int): (2 C S) width of ``[f_orig | f_twin]``, each
            flattened from (C, S) (``pool_features(keep_time=True)``).
        num_classes (int): Distance classes (the clip length T).
        num_slots (int): Time slots S per clip (>= 2, dividing
            ``in_channels / 2``).
        hidden_channels (int): Hidden size.
    """

    def __init__(self, in_channels: int, num_classes: int, num_slots: int,
                 hidden_channels: int) -> None:
        super().__init__()
        if num_slots < 2 or in_channels % (2 * num_slots):
            raise ValueError(
                f'an alignment needs num_slots >= 2 time slots dividing '
                f'in_channels / 2 = {in_channels // 2}, got '
                f'num_slots={num_slots}')
        self.num_slots = num_slots
        self.classifier = nn.Sequential(
            nn.Linear(num_slots * num_slots, hidden_channels),
            nn.ReLU(inplace=True), nn.Dropout(0.0),
            nn.Linear(hidden_channels, num_classes))

    def mlp_input(self, feats: torch.Tensor) -> torch.Tensor:
        """Cosine between every time slot of a clip and of its twin.

        Args:
            feats (torch.Tensor): (N, 2 C S) per-slot features
                ``[f_orig | f_twin]``, each flattened from (C, S).

        Returns:
            torch.Tensor: (N, S * S) cosines; entry (s, t) compares slot s
            of the original with slot t of the twin, after removing the
            original's mean over time (the content all its slots share).
        """
        original, shuffled = (
            f.reshape(f.shape[0], -1, self.num_slots)
            for f in feats.chunk(2, dim=1))
        centre = original.mean(dim=2, keepdim=True)
        original = F.normalize(original - centre, dim=1)
        shuffled = F.normalize(shuffled - centre, dim=1)
        return torch.einsum('ncs,nct->nst', original, shuffled).flatten(1)


def frames_as_slots(clips: torch.Tensor) -> torch.Tensor:
    """(N, C, T, H, W) clips -> (N, C H W T): one slot per frame, laid out
    channel-major as ``pool_features(..., keep_time=True)`` lays out its
    per-slot features."""
    return clips.permute(0, 1, 3, 4, 2).flatten(1)


def stage_names(backbone: nn.Module, count: int) -> List[str]:
    """Names of a backbone's output stages: ``layer{k}`` for a ResNet's
    ``out_indices``, else ``stage{i}``."""
    indices = getattr(backbone, 'out_indices', None)
    if indices is not None and len(indices) == count:
        return [f'layer{index + 1}' for index in indices]
    return [f'stage{index}' for index in range(count)]


def twin_sources(maps,
                 twins: torch.Tensor,
                 names: Optional[List[str]] = None) -> Dict[str, Source]:
    """Every readout's ``[orig | twin]`` features of one batch.

    Args:
        maps (torch.Tensor | tuple): The backbone output of ``twins`` (one
            tensor, or one per output stage).
        twins (torch.Tensor): (2N, C, T, H, W) clips, then their shuffled
            twins (``with_twins``).
        names (list[str], optional): A name per stage (:func:`stage_names`);
            defaults to ``stage0``, ``stage1``, ...

    Returns:
        dict: ``'pooled'`` (N, 2D) pooled last-stage features (1 slot), per
        output stage with a time axis its (N, 2 C_i S_i) per-slot features
        (S_i slots) under its name, ``'pixels'`` (N, 2 C H W T).
    """
    stages = list(maps) if isinstance(maps, (tuple, list)) else [maps]
    names = names or [f'stage{index}' for index in range(len(stages))]
    sources: Dict[str, Source] = {
        'pooled': (concat_twins(pool_features(stages[-1])), 1)
    }
    for name, stage in zip(names, stages):
        if stage.ndim == 5:
            sources[name] = (concat_twins(
                pool_features(stage, keep_time=True)), stage.shape[2])
    sources['pixels'] = (concat_twins(frames_as_slots(twins)), twins.shape[2])
    return sources


def build_readouts(sources: Dict[str, Source], num_classes: int,
                   hidden_channels: int) -> Dict[str, Tuple[str, nn.Module]]:
    """A fresh head per readout: name -> (source name, head)."""
    readouts = {}
    for name, (feats, slots) in sources.items():
        if name == 'pooled':
            readouts['difference'] = (name,
                                      ShuffleDegreeHead(
                                          in_channels=feats.shape[1],
                                          num_classes=num_classes,
                                          hidden_channels=hidden_channels))
        elif slots >= 2:  # a stage pooled to one slot has nothing to align
            readouts[f'alignment_{name}'] = (name,
                                             AlignmentReadout(
                                                 feats.shape[1], num_classes,
                                                 slots, hidden_channels))
    return readouts


@torch.no_grad()
def collect_inputs(
    model: nn.Module,
    batches: Iterable[dict],
    hidden_channels: int = 64,
    readouts: Optional[Dict[str, Tuple[str, nn.Module]]] = None,
    progress: Optional[Callable[[int], None]] = None
) -> Tuple[Dict[str, torch.Tensor], torch.Tensor, Optional[torch.Tensor], Dict[
        str, Tuple[str, nn.Module]]]:
    """Each readout's MLP input, the labels and the pretrained head's
    predictions over the batches of a dataloader.

    Args:
        model (nn.Module): A ``CACL`` model in eval mode.
        batches (Iterable[dict]): Dataloader batches of single clips whose
            samples carry ``shuffle_order`` and ``med_label``.
        hidden_channels (int): Hidden size of the readout heads.
        readouts (dict, optional): Heads from an earlier call (the train
            split's), so the held-out inputs match them; built from the
            first batch if None.
        progress (Callable, optional): Called with each batch's size.

    Returns:
        tuple: name -> (M, F) MLP inputs; (M,) labels; (M,) predictions of
        ``model.sdp_head`` (None without one); the readout heads.
    """
    from ..models.recognizers.base_moco import stack_sample_field
    from ..models.utils.representations import Arch
    encoder = model.online_encoder(Arch.CNN)
    inputs: Dict[str, List[torch.Tensor]] = {}
    labels, predictions = [], []
    for data in batches:
        data = model.data_preprocessor(data, False)
        clips, samples = data['inputs'], data['data_samples']
        clips = clips[:, 0] if clips.ndim == 6 else clips
        order = stack_sample_field(samples, 'shuffle_order', clips.device)
        twins = with_twins(clips, order, 2)
        maps = encoder.feature_maps(twins)
        count = len(maps) if isinstance(maps, (tuple, list)) else 1
        sources = twin_sources(maps, twins,
                               stage_names(encoder.backbone, count))
        if readouts is None:
            readouts = build_readouts(sources, model.clip_len, hidden_channels)
        for key, (source, head) in readouts.items():
            inputs.setdefault(key,
                              []).append(head.mlp_input(sources[source][0]))
        labels.append(stack_sample_field(samples, 'med_label', clips.device))
        if model.sdp_head is not None:
            predictions.append(
                model.sdp_head(sources['pooled'][0]).argmax(dim=1))
        if progress is not None:
            progress(clips.shape[0])
    if readouts is None:
        raise ValueError('no clips to read out: the split is empty')
    return ({
        k: torch.cat(v)
        for k, v in inputs.items()
    }, torch.cat(labels), torch.cat(predictions) if predictions else None,
            readouts)


def fit_readout(head: nn.Module,
                train: Tuple[torch.Tensor, torch.Tensor],
                heldout: Tuple[torch.Tensor, torch.Tensor],
                epochs: int = 100,
                lr: float = 1e-3,
                weight_decay: float = 1e-2,
                batch_size: int = 128,
                seed: int = 0) -> Dict[str, float]:
    """Train ``head.classifier`` on fixed MLP inputs; score both splits.

    Inputs are standardised with the train split's statistics. The
    accuracies are those after the last epoch (no choice on held-out data).

    Args:
        head (nn.Module): A ``ShuffleDegreeHead`` or ``AlignmentReadout``;
            its classifier is re-initialised from ``seed``.
        train (tuple): (M, F) inputs and (M,) labels.
        heldout (tuple): (K, F) inputs and (K,) labels.
        epochs (int): Passes over the train inputs.
        lr (float): AdamW learning rate.
        weight_decay (float): AdamW weight decay.
        batch_size (int): Mini-batch size.
        seed (int): Seed of the initialisation and the batch order.

    Returns:
        dict: ``train_acc`` and ``heldout_acc`` in [0, 1].
    """
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        for layer in head.classifier:
            if isinstance(layer, nn.Linear):
                layer.reset_parameters()
    result = fit_classifier(
        head.classifier,
        train,
        heldout,
        epochs=epochs,
        lr=lr,
        weight_decay=weight_decay,
        batch_size=batch_size,
        optimizer='adamw',
        seed=seed)
    return dict(train_acc=result['train_acc'], heldout_acc=result['test_acc'])


def split_loader_cfg(loader_cfg: dict, ann_file: str,
                     shuffle_seed: int) -> dict:
    """A copy of a test dataloader config that reads one list in order,
    each clip's twin drawn from ``(shuffle_seed, sample index)``.

    A ``RetrievalVideoDataset`` (gallery + query lists) becomes a
    ``RobustVideoDataset`` of ``ann_file``; another dataset keeps its type.
    """
    cfg = copy.deepcopy(loader_cfg)
    dataset = cfg['dataset']
    if 'gallery_ann_file' in dataset:
        dataset.pop('gallery_ann_file')
        dataset.pop('query_ann_file', None)
        dataset.pop('leave_out_bad_videos', None)
        dataset['type'] = 'RobustVideoDataset'
        dataset['test_mode'] = True
    dataset['ann_file'] = ann_file
    shuffle = find_transform(dataset, 'ShuffleByMED')
    if shuffle is None:
        raise KeyError('test_dataloader.dataset.pipeline has no ShuffleByMED:'
                       ' the readouts need shuffled twins and their labels')
    shuffle['seed'] = shuffle_seed
    cfg['sampler'] = dict(type='DefaultSampler', shuffle=False)
    return cfg


def measure_sdp_readouts(
        model: nn.Module,
        loader_for: Callable[[str, int], Iterable[dict]],
        train_list: str,
        heldout_list: str,
        train_draws: int = 10,
        heldout_draws: int = 5,
        epochs: int = 100,
        hidden_channels: int = 64,
        progress: Optional[Callable[[int], None]] = None) -> Dict[str, object]:
    """Fit every readout on a frozen model; score it on held-out clips.

    Args:
        model (nn.Module): A ``CACL`` model (set to eval mode here).
        loader_for (Callable): ``(list file, shuffle seed)`` -> batches.
        train_list (str): Videos the readouts are trained on.
        heldout_list (str): Videos they are scored on.
        train_draws (int): Shuffle draws of each train video (seeds 1000,
            1001, ...).
        heldout_draws (int): Shuffle draws of each held-out video (seeds 0,
            1, ...).
        epochs (int): Training passes of each readout.
        hidden_channels (int): Hidden size of each readout.
        progress (Callable, optional): Called with each batch's size.

    Returns:
        dict: ``chance``, pair counts, ``pretrained_head`` (held-out
        accuracy of ``model.sdp_head``, if any) and per readout its
        ``source``, ``train_acc`` and ``heldout_acc``.
    """
    if train_draws < 1 or heldout_draws < 1:
        raise ValueError('train_draws and heldout_draws must be >= 1')
    model.eval()
    readouts = None
    splits = {}
    for split, ann_file, seeds in (
        ('train', train_list, [1000 + i for i in range(train_draws)]),
        ('heldout', heldout_list, list(range(heldout_draws))),
    ):
        parts = []
        for seed in seeds:
            *collected, readouts = collect_inputs(model,
                                                  loader_for(ann_file, seed),
                                                  hidden_channels, readouts,
                                                  progress)
            parts.append(collected)
        inputs = {k: torch.cat([p[0][k] for p in parts]) for k in readouts}
        labels = torch.cat([p[1] for p in parts])
        predictions = None if parts[0][2] is None else torch.cat(
            [p[2] for p in parts])
        splits[split] = (inputs, labels, predictions)
    (train_x, train_y, _), (test_x, test_y, test_pred) = (splits['train'],
                                                          splits['heldout'])
    result: Dict[str, object] = dict(
        chance=1.0 / model.clip_len,
        num_train_pairs=len(train_y),
        num_heldout_pairs=len(test_y),
        pretrained_head=None if test_pred is None else dict(
            heldout_acc=float((test_pred == test_y).float().mean())),
        readouts={})
    for key, (source, head) in readouts.items():
        result['readouts'][key] = dict(
            source=source,
            **fit_readout(
                head, (train_x[key], train_y), (test_x[key], test_y),
                epochs=epochs))
    return result
