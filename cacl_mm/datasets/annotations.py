"""Official UCF101 / HMDB51 split files -> MMAction2 video list files.

MMAction2's ``VideoDataset`` reads ``<relative path> <0-based label>`` lines.
These converters read the files exactly as the datasets distribute them
(CRLF endings, UCF101's 1-based ``classInd.txt``, HMDB51's per-class
``<action>_test_split<N>.txt`` with 1 = train, 2 = test, 0 = unused) and
report every problem with the file and line at fault.
"""
from __future__ import annotations
import glob
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Tuple


class AnnotationError(ValueError):
    """A problem in an annotation file, located as ``file:line``."""

    def __init__(self, path: str, line: Optional[int], problem: str) -> None:
        where = f'{path}:{line}' if line is not None else path
        super().__init__(f'{where}: {problem}')
        self.path, self.line, self.problem = path, line, problem


def read_lines(path: str) -> List[Tuple[int, str]]:
    """Non-blank lines with their 1-based numbers, CR/LF stripped."""
    if not osp.isfile(path):
        raise AnnotationError(path, None, 'file not found')
    with open(path, encoding='utf-8', newline='') as f:
        return [(i, line.rstrip('\r\n').strip())
                for i, line in enumerate(f, start=1) if line.strip()]


def check_relative(path: str, ann_path: str, line: int) -> str:
    """Refuse absolute paths and paths leaving the data root."""
    norm = osp.normpath(path.replace('\\', '/'))
    if osp.isabs(norm) or norm == '..' or norm.startswith('../'):
        raise AnnotationError(ann_path, line,
                              f'path {path!r} is outside the data root')
    return norm


def check_video(video_root: Optional[str], rel: str, ann_path: str,
                line: int) -> None:
    """Raise if ``video_root`` is given and the video is not in it."""
    if video_root is not None and not osp.isfile(osp.join(video_root, rel)):
        raise AnnotationError(ann_path, line,
                              f'video {rel!r} not found under {video_root}')


def parse_class_index(path: str) -> Dict[str, int]:
    """UCF101 ``classInd.txt`` (``<index from 1> <Class>``) -> name: index0."""
    classes: Dict[str, int] = {}
    for number, text in read_lines(path):
        parts = text.split()
        if len(parts) != 2 or not parts[0].isdigit():
            raise AnnotationError(
                path, number, f'expected "<index> <ClassName>", got {text!r}')
        index = int(parts[0])
        if index != len(classes) + 1:
            raise AnnotationError(
                path, number,
                f'class index {index}, expected {len(classes) + 1}')
        if parts[1] in classes:
            raise AnnotationError(path, number,
                                  f'duplicate class {parts[1]!r}')
        classes[parts[1]] = index - 1
    if not classes:
        raise AnnotationError(path, None, 'no classes')
    return classes


def _ucf_list(path: str, classes: Dict[str, int], with_index: bool,
              video_root: Optional[str]) -> List[str]:
    out, seen = [], set()
    for number, text in read_lines(path):
        parts = text.split()
        if len(parts) not in ((2, ) if with_index else (1, 2)):
            raise AnnotationError(path, number, f'malformed line {text!r}')
        rel = check_relative(parts[0], path, number)
        folder = rel.split('/')[0] if '/' in rel else None
        if folder is None:
            raise AnnotationError(path, number,
                                  f'{rel!r} has no <ClassName>/ folder')
        if folder not in classes:
            raise AnnotationError(path, number, f'unknown class {folder!r}')
        label = classes[folder]
        if len(parts) == 2:
            if not parts[1].isdigit():
                raise AnnotationError(
                    path, number, f'class index {parts[1]!r} is not a number')
            if int(parts[1]) - 1 != label:
                raise AnnotationError(
                    path, number, f'class index {parts[1]} but folder '
                    f'{folder!r} is class {label + 1} in classInd.txt')
        if rel in seen:
            raise AnnotationError(path, number, f'duplicate video {rel!r}')
        seen.add(rel)
        check_video(video_root, rel, path, number)
        out.append(f'{rel} {label}')
    return out


def convert_ucf101(
        ann_dir: str,
        split: int,
        video_root: Optional[str] = None) -> Tuple[List[str], List[str]]:
    """One UCF101 split as MMAction2 lines.

    Args:
        ann_dir (str): Folder with ``classInd.txt``, ``trainlist0N.txt`` and
            ``testlist0N.txt``.
        split (int): 1, 2 or 3.
        video_root (str, optional): If given, every video must exist there.

    Returns:
        tuple[list[str], list[str]]: Train and test lines ``path label``.
    """
    classes = parse_class_index(osp.join(ann_dir, 'classInd.txt'))
    train = _ucf_list(
        osp.join(ann_dir, f'trainlist{split:02d}.txt'), classes, True,
        video_root)
    test = _ucf_list(
        osp.join(ann_dir, f'testlist{split:02d}.txt'), classes, False,
        video_root)
    return train, test


def ucf101_splits(ann_dir: str) -> List[int]:
    """Splits N with both ``trainlist0N.txt`` and ``testlist0N.txt``."""
    return [
        split for split in (1, 2, 3) if all(
            osp.isfile(osp.join(ann_dir, f'{side}list{split:02d}.txt'))
            for side in ('train', 'test'))
    ]


_HMDB_SPLIT = re.compile(r'^(?P<action>.+)_test_split(?P<split>\d)\.txt$')


def hmdb51_classes(split_dir: str, split: int) -> List[str]:
    """Actions with an ``<action>_test_split<N>.txt`` file, in label order."""
    actions = sorted(
        _HMDB_SPLIT.match(osp.basename(p)).group('action')
        for p in glob.glob(osp.join(split_dir, f'*_test_split{split}.txt')))
    if not actions:
        raise AnnotationError(split_dir, None,
                              f'no *_test_split{split}.txt files')
    return actions


def hmdb51_splits(split_dir: str) -> List[int]:
    """Splits N with at least one ``<action>_test_splitN.txt``."""
    found = {
        int(m.group('split'))
        for m in (_HMDB_SPLIT.match(osp.basename(p))
                  for p in glob.glob(osp.join(split_dir, '*_test_split*.txt')))
        if m
    }
    return sorted(found)


def convert_hmdb51(
        split_dir: str,
        split: int,
        video_root: Optional[str] = None) -> Tuple[List[str], List[str]]:
    """One HMDB51 split as MMAction2 lines (labels: sorted action names).

    Args:
        split_dir (str): Folder of ``<action>_test_split<N>.txt`` files.
        split (int): 1, 2 or 3.
        video_root (str, optional): If given, every used video must exist
            there as ``<action>/<video>``.

    Returns:
        tuple[list[str], list[str]]: Train and test lines ``path label``.
    """
    train, test = [], []
    for label, action in enumerate(hmdb51_classes(split_dir, split)):
        path = osp.join(split_dir, f'{action}_test_split{split}.txt')
        for number, text in read_lines(path):
            parts = text.split()
            if len(parts) != 2 or parts[1] not in ('0', '1', '2'):
                raise AnnotationError(
                    path, number, f'expected "<video> <0|1|2>", got {text!r}')
            if parts[1] == '0':
                continue
            video = check_relative(parts[0], path, number)
            if '/' in video:
                raise AnnotationError(path, number,
                                      f'{video!r}: expected a bare file name')
            rel = f'{action}/{video}'
            check_video(video_root, rel, path, number)
            (train if parts[1] == '1' else test).append(f'{rel} {label}')
    return train, test


def write_list(path: str, lines: List[str]) -> str:
    """Write MMAction2 list lines (LF endings); returns ``path``."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        f.write(''.join(line + '\n' for line in lines))
    return path


def subsample_per_class(lines: List[str],
                        fraction: float,
                        seed: int = 0) -> List[str]:
    """A class-balanced subset of MMAction2 list lines (a few-label split).

    Keeps ``round(fraction * n_c)`` (at least one) videos of each class c,
    drawn with ``seed``, in their original order.

    Args:
        lines (list[str]): ``path label`` lines.
        fraction (float): In (0, 1].
        seed (int): Seed of the draw.

    Returns:
        list[str]: The kept lines.
    """
    import numpy as np
    if not 0 < fraction <= 1:
        raise ValueError(f'fraction must be in (0, 1], got {fraction}')
    by_class: Dict[str, List[int]] = {}
    for index, line in enumerate(lines):
        by_class.setdefault(line.split()[-1], []).append(index)
    rng = np.random.default_rng(seed)
    kept = set()
    for label in sorted(by_class, key=int):
        indices = by_class[label]
        count = max(1, int(round(fraction * len(indices))))
        kept.update(rng.choice(indices, size=count, replace=False).tolist())
    return [line for index, line in enumerate(lines) if index in kept]


def list_file_names(name: str, split: int) -> Tuple[str, str]:
    """MMAction2's ``<name>_train_split_N_videos.txt`` and ``..._val_...``."""
    return (f'{name}_train_split_{split}_videos.txt',
            f'{name}_val_split_{split}_videos.txt')
