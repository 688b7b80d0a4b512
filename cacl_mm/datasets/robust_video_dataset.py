"""``RobustVideoDataset``: MMAction2's ``VideoDataset``, surviving bad files.

Real video collections always hold a few broken files. MMAction2's
``VideoDataset`` lets a decoder error escape from a worker as an opaque
traceback, loops the frames of a too-short video without saying so, and
turns a malformed list line into a bare ``ValueError``. This subclass:

* validates the list file before anything trains (field count, integer
  label, label < ``num_classes``, no path leaving the data root), naming
  ``file:line``;
* checks every sample while the pipeline runs: the file exists and is not
  empty, the decoder opens it, it has at least ``min_frames`` frames, and
  the decoded clip has one non-empty frame per sampled index;
* applies ``bad_video_policy``: ``'skip'`` warns once per file, records
  ``{path, reason}``, and lets mmengine's ``BaseDataset`` draw another sample
  (its ``max_refetch`` loop); the records ride on the next good sample's
  ``metainfo['skipped_videos']`` so that ``SkippedVideosHook`` can list them
  from any worker or rank. ``'raise'`` stops with :class:`BadVideoError`
  naming the file and the reason (the default in ``test_mode``, where a
  silent skip would bias a metric).
"""
from __future__ import annotations
import os
import os.path as osp
import time
from typing import Callable, Dict, List, Optional, Union

import numpy as np
from mmengine.logging import print_log

from mmaction.datasets import VideoDataset
from mmaction.registry import DATASETS
from .annotations import AnnotationError, check_relative, read_lines

POLICIES = ('skip', 'raise')

try:
    from decord import DECORDError as _DECORD_ERROR
except ImportError:  # another decoder only
    _DECORD_ERROR = RuntimeError


class BadVideoError(RuntimeError):
    """A video that cannot give a clip; names the file and the reason.

    A DataLoader worker's error reaches the main process re-built from its
    message alone (``BadVideoError(message)``), so ``reason`` may be None:
    the class survives the trip and :class:`MonitorValLoop` can tell it from
    a bug.
    """

    def __init__(self, path: str, reason: Optional[str] = None) -> None:
        super().__init__(path if reason is
                         None else f'bad video {path}: {reason}')
        self.path, self.reason = path, reason


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    # decord's messages end with the useful part after a C++ source location;
    # ffmpeg may echo raw file bytes, which a log or JSON must not carry.
    text = ''.join(c if c.isprintable() else '?'
                   for c in (lines[-1] if lines else ''))
    return f'{type(error).__name__}: {text}'[:300]


@DATASETS.register_module()
class RobustVideoDataset(VideoDataset):
    """``VideoDataset`` with list validation and a bad-video policy.

    Args:
        ann_file (str): ``<relative path> <label>`` list file.
        pipeline (list): Data transforms, starting with a decoder init
            (``DecordInit``, ``PyAVInit``, ...).
        bad_video_policy (str, optional): ``'skip'`` or ``'raise'``; None
            means ``'raise'`` in ``test_mode`` and ``'skip'`` otherwise.
        min_frames (int): Fewest frames a usable video has. With
            ``ShuffleByMED`` in the pipeline it must cover the span of
            ``SampleFrames``, ``(clip_len - 1) * frame_interval + 1``:
            MMAction2 would loop a shorter video's frames, and a clip with
            repeated frames has no well-defined edit distance. Defaults
            to 1.
        **kwargs: ``VideoDataset`` arguments (``data_prefix``,
            ``num_classes``, ``test_mode``, ``max_refetch``, ...).
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[dict, Callable]],
                 bad_video_policy: Optional[str] = None,
                 min_frames: int = 1,
                 **kwargs) -> None:
        test_mode = kwargs.get('test_mode', False)
        policy = bad_video_policy or ('raise' if test_mode else 'skip')
        if policy not in POLICIES:
            raise ValueError(f'bad_video_policy must be one of {POLICIES}, '
                             f'got {bad_video_policy!r}')
        if min_frames < 1:
            raise ValueError(f'min_frames must be >= 1, got {min_frames}')
        self.bad_video_policy = policy
        self.min_frames = min_frames
        self._pending_skips: List[Dict[str, str]] = []
        self._warned_paths: set = set()
        super().__init__(ann_file, pipeline, **kwargs)
        self._check_min_frames_covers_the_clip()

    def _check_min_frames_covers_the_clip(self) -> None:
        """Refuse a ``min_frames`` below the span of a shuffled clip.

        ``SampleFrames`` loops the frames of a video shorter than
        ``(clip_len - 1) * frame_interval + 1``; a clip that ``ShuffleByMED``
        shuffles must not repeat frames (its edit distance would be wrong).

        Raises:
            ValueError: Naming ``min_frames`` and the value it needs.
        """
        from mmaction.datasets.transforms import SampleFrames
        from .transforms import ShuffleByMED
        transforms = self.pipeline.transforms
        if not any(isinstance(t, ShuffleByMED) for t in transforms):
            return
        for sampler in transforms:
            if not isinstance(sampler, SampleFrames):
                continue
            span = (sampler.clip_len - 1) * sampler.frame_interval + 1
            if self.min_frames < span:
                raise ValueError(
                    f'{type(self).__name__}: min_frames={self.min_frames} '
                    f'is below the {span} frames that SampleFrames('
                    f'clip_len={sampler.clip_len}, frame_interval='
                    f'{sampler.frame_interval}) spans: a shorter video '
                    'would loop its frames, and a shuffled clip with '
                    'repeated frames has no well-defined edit distance. '
                    f'Set the dataset\'s min_frames={span}')

    # ------------------------------------------------------------ list file
    def load_data_list(self) -> List[dict]:
        """Validate every line of the list file, then read it as MMAction2.

        Raises:
            AnnotationError: Naming ``file:line`` and the problem.
        """
        if self.multi_class:
            return super().load_data_list()
        for number, text in read_lines(self.ann_file):
            fields = text.split(self.delimiter)
            if len(fields) > 2 or not fields[0]:
                raise AnnotationError(
                    self.ann_file, number,
                    f'expected "<relative path> <label>", got {text!r}')
            check_relative(fields[0], self.ann_file, number)
            if len(fields) == 1:
                continue
            label = fields[1]
            if not label.lstrip('-').isdigit():
                raise AnnotationError(self.ann_file, number,
                                      f'label {label!r} is not an integer')
            if int(label) < 0 or (self.num_classes is not None
                                  and int(label) >= self.num_classes):
                raise AnnotationError(
                    self.ann_file, number,
                    f'unknown class index {label} (num_classes='
                    f'{self.num_classes}: a collection with more classes '
                    'sets the dataset\'s num_classes and the head\'s, '
                    'model.cls_head.num_classes)')
        return super().load_data_list()

    # ------------------------------------------------------------ samples
    def prepare_data(self, idx: int) -> Optional[dict]:
        """The pipeline's output, or None (skip policy) for a bad video."""
        info = self.get_data_info(idx)
        data = self._pipeline_or_bad_video(
            info, info.get('filename', f'<sample {idx}>'))
        if isinstance(data, BadVideoError):
            return self._on_bad_video(data)
        if self._pending_skips and isinstance(data, dict) and hasattr(
                data.get('data_samples'), 'set_metainfo'):
            data['data_samples'].set_metainfo(
                dict(skipped_videos=list(self._pending_skips)))
            self._pending_skips.clear()
        return data

    @staticmethod
    def _is_decoding_error(error: Exception) -> bool:
        # Decoders raise RuntimeError (decord's C++ errors on open, PyAV's),
        # decord's DECORDError (a plain Exception, raised while decoding a
        # damaged stream) or IndexError for frames past the end; OSError
        # covers unreadable files. Anything else is a bug in a transform and
        # must surface.
        return isinstance(
            error,
            (RuntimeError, IndexError, OSError, EOFError, _DECORD_ERROR))

    def probe(self, info: dict) -> Optional[str]:
        """Why the video of ``info`` cannot give a clip, or None if it can.

        Opens it as the pipeline does, up to the decoder's frame count: the
        file exists, is not empty, opens, and has ``min_frames`` frames.
        """
        result = self._pipeline_or_bad_video(
            dict(info), info.get('filename', '?'), probe=True)
        return result.reason if isinstance(result, BadVideoError) else None

    def _pipeline_or_bad_video(
            self,
            info: dict,
            path: str,
            probe: bool = False) -> Union[Optional[dict], BadVideoError]:
        """The checked pipeline's output, or the ``BadVideoError`` that says
        why the video gives none (a decoder's error becomes one; any other
        error is a bug and propagates)."""
        try:
            return self._run_checked_pipeline(info, path, probe)
        except BadVideoError as error:
            return error
        except Exception as error:  # decoder errors have no common base
            if not self._is_decoding_error(error):
                raise
            return BadVideoError(path, _first_line(error))

    def _run_checked_pipeline(self,
                              info: dict,
                              path: str,
                              probe: bool = False) -> Optional[dict]:
        if not osp.isfile(path):
            raise BadVideoError(path, 'file not found')
        if os.stat(path).st_size == 0:
            raise BadVideoError(path, 'empty file (0 bytes)')
        results = info
        if 'total_frames' in results:  # frame datasets list their length
            self._check_length(results['total_frames'], path)
            if probe:
                return results
        for transform in self.pipeline.transforms:
            before = set(results)
            results = transform(results)
            if results is None:
                return None
            # Each check runs once, right after the transform that adds
            # its key (a decoder init adds total_frames, a decode imgs).
            if isinstance(results, dict):
                if 'total_frames' in results and 'total_frames' not in before:
                    self._check_length(results['total_frames'], path)
                    if probe:
                        return results
                if 'imgs' in results and 'imgs' not in before:
                    self._check_decoded(results, path)
        return results

    def _check_length(self, total: int, path: str) -> None:
        if total < self.min_frames:
            raise BadVideoError(
                path, f'{total} frames, fewer than min_frames='
                f'{self.min_frames} (the clip would repeat frames)')

    @staticmethod
    def _check_decoded(results: dict, path: str) -> None:
        """One non-empty decoded frame per sampled index."""
        if 'frame_inds' not in results:
            return
        imgs = results['imgs']
        expected = int(np.asarray(results['frame_inds']).size)
        if len(imgs) != expected:
            raise BadVideoError(
                path, f'decoded {len(imgs)} frames, {expected} were sampled')
        if expected and not any(np.any(frame) for frame in imgs):
            raise BadVideoError(path, 'every decoded frame is all zeros')

    def _on_bad_video(self, error: BadVideoError) -> None:
        if self.bad_video_policy == 'raise':
            raise error
        if error.path not in self._warned_paths:
            self._warned_paths.add(error.path)
            print_log(
                f'skipping {error}; another sample is drawn '
                '(bad_video_policy="skip")',
                logger='current',
                level=30)
        self._pending_skips.append(dict(path=error.path, reason=error.reason))
        return None


@DATASETS.register_module()
class RetrievalVideoDataset(RobustVideoDataset):
    """A train-split gallery and test-split queries as one dataset.

    Video retrieval (and the representation check during pretraining)
    embeds every video of both lists once; each sample carries
    ``retrieval_role`` (``'gallery'`` or ``'query'``; pack it with
    ``PackActionInputs(algorithm_keys=('retrieval_role', ...))``) so that
    ``VideoRetrievalMetric`` needs no list length, and a config overrides
    each list with one key. ``test_mode`` defaults to True: a broken video
    raises instead of being skipped, since a skip would bias the metric.

    Args:
        gallery_ann_file (str): List of the gallery (train split) videos.
        query_ann_file (str): List of the query (test split) videos.
        pipeline (list): Data transforms.
        leave_out_bad_videos (bool): Open every video once when the lists
            are read and leave out the ones that cannot give a clip
            (missing, empty, unreadable, shorter than ``min_frames``),
            listed in ``left_out_videos`` and the log. For a monitor
            (the representation check during pretraining) that must not
            stop training; an evaluation keeps the default False and
            raises. Defaults to False.
        **kwargs: ``RobustVideoDataset`` arguments (``data_prefix``, ...).
    """

    def __init__(self,
                 gallery_ann_file: str,
                 query_ann_file: str,
                 pipeline: List[Union[dict, Callable]],
                 leave_out_bad_videos: bool = False,
                 **kwargs) -> None:
        kwargs.setdefault('test_mode', True)
        self.lists = dict(gallery=gallery_ann_file, query=query_ann_file)
        self.leave_out_bad_videos = leave_out_bad_videos
        self.left_out_videos: List[Dict[str, str]] = []
        super().__init__(gallery_ann_file, pipeline, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Both lists, validated, each sample tagged with its role."""
        data_list = []
        for role, ann_file in self.lists.items():
            if self.data_root and not osp.isabs(ann_file):
                ann_file = osp.join(self.data_root, ann_file)
            self.ann_file = ann_file
            for info in super().load_data_list():
                info['retrieval_role'] = role
                data_list.append(info)
        if self.leave_out_bad_videos:
            data_list = self._without_bad_videos(data_list)
        return data_list

    def _without_bad_videos(self, data_list: List[dict]) -> List[dict]:
        """``data_list`` less the videos :meth:`probe` finds broken; they
        are logged and kept in ``left_out_videos`` (``SkippedVideosHook``
        writes them to its file)."""
        start = time.perf_counter()
        kept = []
        self.left_out_videos = []
        for info in data_list:
            reason = self.probe(info)
            if reason is None:
                kept.append(info)
            else:
                self.left_out_videos.append(
                    dict(
                        path=info['filename'],
                        reason=reason,
                        role=info['retrieval_role']))
        seconds = time.perf_counter() - start
        empty = set(self.lists) - {info['retrieval_role'] for info in kept}
        if empty:  # a check without gallery or queries is no check
            role = sorted(empty)[0]
            reasons = sorted({
                v['reason']
                for v in self.left_out_videos if v['role'] == role
            })
            raise ValueError(
                f'no video of the {role} list {self.lists[role]} can give a '
                'clip to the representation check (min_frames='
                f'{self.min_frames}): {"; ".join(reasons[:3])}')
        if self.left_out_videos:
            lines = '\n'.join(f'  {v["path"]} ({v["role"]}: {v["reason"]})'
                              for v in self.left_out_videos)
            print_log(
                f'{len(self.left_out_videos)} of {len(data_list)} videos of '
                'the representation check cannot give a clip and are left '
                f'out of it (probed in {seconds:.1f} s):\n{lines}',
                logger='current',
                level=30)
        else:
            print_log(
                f'all {len(data_list)} videos of the representation check '
                f'open (probed in {seconds:.1f} s)',
                logger='current')
        return kept
