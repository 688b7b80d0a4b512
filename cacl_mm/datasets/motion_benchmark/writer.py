"""Writing a collection to disk in UCF101's layout: the videos, the
official list files, MMAction2's lists and the manifest that lets a
second run reuse what is there."""
from __future__ import annotations
import os
import os.path as osp
from typing import List, Sequence, Tuple

import numpy as np

from .render import group_nuisance, render_video
from .spec import GENERATOR_VERSION, VOCABULARY, BenchmarkSpec, held_out_groups
from .video_io import write_video


def video_name(label: str, group: int, clip: int) -> str:
    """UCF101's ``<Class>/v_<Class>_gXX_cYY.avi``."""
    return f'{label}/v_{label}_g{group:02d}_c{clip:02d}.avi'


def plan(spec: BenchmarkSpec) -> List[Tuple[str, int, int]]:
    """Every (class, group, clip) of the benchmark, in writing order."""
    return [(label, group, clip) for label in spec.classes
            for group in range(1, spec.num_groups + 1)
            for clip in range(1, spec.clips_per_group + 1)]


def video_rng(spec: BenchmarkSpec, label: str, group: int,
              clip: int) -> np.random.Generator:
    """The random source of one video: (seed, class, group, clip) decide
    every draw of :func:`render_video`."""
    return np.random.default_rng(
        [spec.seed, group, VOCABULARY.index(label), clip])


def generate_one(root: str, spec: BenchmarkSpec, label: str, group: int,
                 clip: int) -> str:
    """Render and write one video, determined by (seed, class, group, clip)."""
    rel = video_name(label, group, clip)
    write_video(
        osp.join(root, 'videos', rel),
        render_video(label, video_rng(spec, label, group, clip),
                     group_nuisance(spec, group), spec),
        fps=spec.fps)
    return rel


def write_official_lists(root: str, spec: BenchmarkSpec) -> List[str]:
    """``annotations/classInd.txt``, ``trainlist0N.txt``, ``testlist0N.txt``.

    Same format as UCF101's (CRLF, 1-based class index, train lines carry
    the index, test lines do not).

    Returns:
        list[str]: The written paths.
    """
    ann_dir = osp.join(root, 'annotations')
    os.makedirs(ann_dir, exist_ok=True)
    written = []

    def write(name: str, lines: Sequence[str]) -> None:
        path = osp.join(ann_dir, name)
        with open(path, 'w', newline='') as f:
            f.write(''.join(line + '\r\n' for line in lines))
        written.append(path)

    write('classInd.txt', [f'{i + 1} {c}' for i, c in enumerate(spec.classes)])
    for split in range(1, spec.num_splits + 1):
        held_out = set(held_out_groups(spec, split))
        train, test = [], []
        for label, group, clip in plan(spec):
            rel = video_name(label, group, clip)
            if group in held_out:
                test.append(rel)
            else:
                train.append(f'{rel} {spec.classes.index(label) + 1}')
        write(f'trainlist{split:02d}.txt', train)
        write(f'testlist{split:02d}.txt', test)
    return written


def _generate_task(task: tuple) -> str:
    root, spec, label, group, clip = task
    return generate_one(root, spec, label, group, clip)


def generate_benchmark(root: str,
                       spec: BenchmarkSpec,
                       name: str = 'motion10',
                       workers: int = 2,
                       few_label_fraction: float = 0.1) -> dict:
    """Write (or reuse) the benchmark under ``root``; returns the manifest.

    Writes ``videos/``, UCF101's ``annotations/`` files, and per split the
    MMAction2 lists ``<name>_{train,val}_split_N_videos.txt`` (through the
    UCF101 converter) plus ``<name>_train_split_N_<P>pct_videos.txt``
    (:func:`few_label_list_name`), a class-balanced ``few_label_fraction``
    of the train list for few-label fine-tuning. Videos already written
    with the same spec are reused.
    """
    import json
    import sys

    from mmengine.utils import track_parallel_progress, track_progress

    from ..annotations import (convert_ucf101, list_file_names,
                               subsample_per_class, write_list)
    manifest_path = osp.join(root, 'benchmark.json')
    manifest = dict(
        spec=spec.non_defaults(),
        name=name,
        few_label_fraction=few_label_fraction,
        generator_version=GENERATOR_VERSION)
    todo = [(root, spec, *item) for item in plan(spec)]
    if osp.isfile(manifest_path):
        with open(manifest_path) as f:
            if json.load(f) == manifest:
                todo = [
                    t for t in todo if not osp.isfile(
                        osp.join(root, 'videos', video_name(*t[2:])))
                ]
            else:
                print(
                    f'{manifest_path} was made with other settings: '
                    'regenerating',
                    file=sys.stderr)
    if todo:
        print(f'writing {len(todo)} videos to {root}/videos')
        if workers > 1:
            track_parallel_progress(_generate_task, todo, workers, chunksize=4)
        else:
            track_progress(_generate_task, todo)
    else:
        print(f'{root}: all {spec.num_videos} videos present, reusing them')
    ann_dir = osp.join(root, 'annotations')
    write_official_lists(root, spec)
    for split in range(1, spec.num_splits + 1):
        train, test = convert_ucf101(
            ann_dir, split, video_root=osp.join(root, 'videos'))
        train_name, test_name = list_file_names(name, split)
        write_list(osp.join(root, train_name), train)
        write_list(osp.join(root, test_name), test)
        write_list(
            osp.join(root, few_label_list_name(name, split,
                                               few_label_fraction)),
            subsample_per_class(train, few_label_fraction, seed=split))
    with open(manifest_path, 'w') as f:
        json.dump(manifest, f, indent=2)
    return manifest


def few_label_list_name(name: str, split: int, fraction: float = 0.1) -> str:
    """``<name>_train_split_N_<P>pct_videos.txt``: the few-label train list
    (P = ``fraction`` in percent, 10 by default)."""
    return f'{name}_train_split_{split}_{round(100 * fraction)}pct_videos.txt'
