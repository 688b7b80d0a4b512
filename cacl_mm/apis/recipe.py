"""The small-scale recipe, sized for a collection by rules.

The tiny configs (``configs/cacl/cacl_tiny_r3d_synthetic.py``, the tiny
stage-0 and fine-tune configs) hold the recipe as measured on the embedded
benchmark: 400 train videos. Their schedules are in epochs, so on a
collection of another size they make another number of optimizer steps and
the recipe is no longer the one that was measured. :class:`SmallScaleRecipe`
turns each schedule into a rule of the number of train videos N and the
batch size B, and writes it as ``--cfg-options`` for those configs;
``tools/demo.py`` applies it to every collection (the embedded benchmark
gets the configs' own numbers back). The paper configs are not touched.

The rules, each a budget of optimizer steps (``docs/recipe_rules.md``
holds the measurements behind them):

* pretraining: ``PRETRAIN_STEPS`` steps, so ``ceil(PRETRAIN_STEPS * B / N)``
  epochs; the learning rate's cosine and the momentum's cosine (the
  ``MoCoQueueHook``) span them; the representation check runs 4 times;
* stage 0 (MoCo on frames): ``FRAME_STEPS`` steps of its batch over its
  ``RepeatSampler``'s passes;
* fine-tuning with all labels: ``FINETUNE_STEPS`` steps, warm-up
  ``WARMUP_FRACTION`` of them; with 10% of the labels the same epochs over
  the 10% list repeated 5 times (half the steps, as the configs);
* the supervised bound fits: if the random-init fine-tune fits less than
  ``FIT_TARGET`` of its own train videos, every fine-tune's steps double
  (:meth:`SmallScaleRecipe.doubled`), at most ``MAX_FIT_DOUBLINGS`` times.
  A rule in N alone cannot know how hard a collection is; its bound can.
  If that bound's loss sat at its trivial value ln C for ``STALL_SHARE``
  of the steps after its warm-up (:func:`stalled`: from scratch, at the
  peak rate, it never left the uniform prediction), doubling the steps
  alone lengthens the stall; the warm-up then spans at least
  ``STALL_WARMUP_STEPS`` steps as well (:meth:`SmallScaleRecipe.
  with_long_warmup`).
"""
from __future__ import annotations
import dataclasses
import math
from dataclasses import dataclass
from typing import Dict, Optional, Sequence

#: Optimizer steps of CACL pretraining (the embedded benchmark's 40 epochs
#: of 400 videos at batch 16).
PRETRAIN_STEPS = 1000
#: Optimizer steps of stage 0 (4 epochs x 4 passes x 400 videos / 32).
FRAME_STEPS = 200
#: Optimizer steps of fine-tuning with all labels (60 epochs x 400 / 16).
FINETUNE_STEPS = 1500
#: Share of the fine-tuning steps spent warming the learning rate up.
WARMUP_FRACTION = 1 / 15
#: Representation checks per pretraining run.
CHECKS = 4
#: Share of its own train videos the supervised bound must fit (top-1 of
#: the 5-clip test on the train list) for the fine-tune budget to stand.
FIT_TARGET = 0.95
#: Doublings of the fine-tune steps allowed to reach ``FIT_TARGET``.
MAX_FIT_DOUBLINGS = 1
#: A logged train loss within this of ln C (C classes) is at its trivial
#: value: the prediction is still uniform.
STALL_MARGIN = 0.05
#: Share of the logged steps after the warm-up at the trivial loss from
#: which a fine-tune stalled.
STALL_SHARE = 1 / 3
#: The warm-up's least length in steps once a bound stalled.
STALL_WARMUP_STEPS = 200


def epochs_for(steps: int,
               num_videos: int,
               batch_size: int,
               passes: int = 1,
               drop_last: bool = False) -> int:
    """Epochs that make at least ``steps`` optimizer steps.

    Args:
        steps (int): The step budget.
        num_videos (int): Videos in the train list (N).
        batch_size (int): Samples per step (B).
        passes (int): Times each video is drawn per epoch
            (``RepeatSampler.times``).
        drop_last (bool): The loader drops the last incomplete batch (the
            MoCo configs do: shuffle-BN needs equal batches).

    Returns:
        int: ``ceil(steps / steps_per_epoch)``, at least 1.
    """
    if num_videos * passes < batch_size or batch_size < 1:
        raise ValueError(f'num_videos ({num_videos}) x passes ({passes}) '
                         f'must hold at least one batch of {batch_size}')
    samples = num_videos * passes
    per_epoch = samples // batch_size if drop_last else math.ceil(samples /
                                                                  batch_size)
    return max(1, math.ceil(steps / per_epoch))


def stalled(steps: Sequence[int], losses: Sequence[float], num_classes: int,
            warmup_steps: int) -> bool:
    """Whether a from-scratch fine-tune stalled at its trivial loss.

    Args:
        steps (Sequence[int]): Steps of the logged train loss.
        losses (Sequence[float]): The loss at those steps.
        num_classes (int): C: the trivial loss (a uniform prediction) is
            ln C.
        warmup_steps (int): Steps of the warm-up; only later ones count.

    Returns:
        bool: At least ``STALL_SHARE`` of the points after the warm-up lie
        within ``STALL_MARGIN`` of ln C (never with fewer than 3 points).
    """
    if len(steps) != len(losses):
        raise ValueError(f'{len(steps)} steps but {len(losses)} losses')
    trivial = math.log(num_classes) - STALL_MARGIN
    after = [loss for step, loss in zip(steps, losses) if step > warmup_steps]
    if len(after) < 3:
        return False
    return bool(
        sum(loss >= trivial for loss in after) >= STALL_SHARE * len(after))


@dataclass(frozen=True)
class SmallScaleRecipe:
    """The tiny configs' schedules for a collection of ``num_train_videos``.

    Args:
        num_train_videos (int): Videos in the train list.
        pretrain_batch (int): CACL's batch size. Defaults to 16 (the
            tiny config's).
        frame_batch (int): Stage 0's batch size. Defaults to 32.
        frame_passes (int): Stage 0's ``RepeatSampler.times``. Defaults
            to 4.
        finetune_batch (int): Fine-tuning's batch size. Defaults to 16.
        epochs (int, optional): Every stage's epochs instead of the rules'
            (``tools/demo.py --epochs``: a quick look at the machinery).
        finetune_scale (int): The fine-tunes make ``finetune_scale x
            FINETUNE_STEPS`` steps (1, or a power of 2 after
            :meth:`doubled`).
        warmup_floor_steps (int): The fine-tune warm-up's least length in
            steps (0, or ``STALL_WARMUP_STEPS`` after
            :meth:`with_long_warmup`).
    """
    num_train_videos: int
    pretrain_batch: int = 16
    frame_batch: int = 32
    frame_passes: int = 4
    finetune_batch: int = 16
    epochs: Optional[int] = None
    finetune_scale: int = 1
    warmup_floor_steps: int = 0

    def __post_init__(self) -> None:
        if self.num_train_videos < 1:
            raise ValueError(f'num_train_videos must be >= 1, got '
                             f'{self.num_train_videos}')
        if self.epochs is not None and self.epochs < 1:
            raise ValueError(f'epochs must be >= 1, got {self.epochs}')
        if self.finetune_scale < 1:
            raise ValueError(
                f'finetune_scale must be >= 1, got {self.finetune_scale}')

    @property
    def can_double(self) -> bool:
        """Another doubling is allowed (never with fixed ``epochs``)."""
        return (self.epochs is None
                and self.finetune_scale < 2**MAX_FIT_DOUBLINGS)

    def doubled(self) -> 'SmallScaleRecipe':
        """The same recipe with twice the fine-tune steps."""
        if not self.can_double:
            raise ValueError(f'the fine-tune budget is at its limit (x'
                             f'{self.finetune_scale}, epochs={self.epochs})')
        return dataclasses.replace(
            self, finetune_scale=2 * self.finetune_scale)

    def with_long_warmup(self) -> 'SmallScaleRecipe':
        """The same recipe whose fine-tunes warm up over at least
        ``STALL_WARMUP_STEPS`` steps (after a stalled bound)."""
        return dataclasses.replace(self, warmup_floor_steps=STALL_WARMUP_STEPS)

    @property
    def finetune_steps(self) -> int:
        """The fine-tune step budget (all labels)."""
        return FINETUNE_STEPS * self.finetune_scale

    def _epochs(self,
                steps: int,
                batch_size: int,
                passes: int = 1,
                drop_last: bool = False) -> int:
        """The fixed ``epochs`` if set, else the epochs of ``steps``."""
        return self.epochs or epochs_for(steps, self.num_train_videos,
                                         batch_size, passes, drop_last)

    @property
    def pretrain_epochs(self) -> int:
        return self._epochs(
            PRETRAIN_STEPS, self.pretrain_batch, drop_last=True)

    @property
    def frame_epochs(self) -> int:
        return self._epochs(
            FRAME_STEPS, self.frame_batch, self.frame_passes, drop_last=True)

    @property
    def finetune_epochs(self) -> int:
        return self._epochs(self.finetune_steps, self.finetune_batch)

    @property
    def finetune_steps_per_epoch(self) -> int:
        """Optimizer steps of one fine-tune epoch (all labels)."""
        return math.ceil(self.num_train_videos / self.finetune_batch)

    @property
    def warmup_epochs(self) -> int:
        """``WARMUP_FRACTION`` of the epochs and at least
        ``warmup_floor_steps`` steps; at least one epoch, and fewer than the
        schedule's."""
        floor = math.ceil(self.warmup_floor_steps /
                          self.finetune_steps_per_epoch)
        return min(
            max(1, round(self.finetune_epochs * WARMUP_FRACTION), floor),
            max(1, self.finetune_epochs - 1))

    def pretrain_options(self) -> Dict[str, object]:
        """``--cfg-options`` of ``cacl_tiny_r3d_synthetic.py``."""
        epochs = self.pretrain_epochs
        interval = max(1, epochs // CHECKS)
        return {
            'train_cfg.max_epochs': epochs,
            'train_cfg.val_interval': interval,
            'param_scheduler.0.T_max': epochs,
            'param_scheduler.0.end': epochs,
            'default_hooks.checkpoint.interval': interval,
        }

    def frame_options(self) -> Dict[str, object]:
        """``--cfg-options`` of ``moco_r18_tiny_frames.py`` (stage 0)."""
        epochs = self.frame_epochs
        return {
            'train_cfg.max_epochs': epochs,
            'param_scheduler.0.T_max': epochs,
            'param_scheduler.0.end': epochs,
            'default_hooks.checkpoint.interval': epochs,
        }

    def finetune_options(self) -> Dict[str, object]:
        """``--cfg-options`` of the tiny fine-tune configs (both)."""
        epochs, warmup = self.finetune_epochs, self.warmup_epochs
        # A one-epoch run is all warm-up; its cosine starts where it ends.
        return {
            'train_cfg.max_epochs': epochs,
            'train_cfg.val_interval': epochs,
            'param_scheduler.0.end': warmup,
            'param_scheduler.1.T_max': max(1, epochs - warmup),
            'param_scheduler.1.begin': warmup,
            'param_scheduler.1.end': max(epochs, warmup + 1),
            'default_hooks.checkpoint.interval': epochs,
        }

    def summary(self) -> Dict[str, object]:
        """What the rules chose, for ``results.json``."""
        return dict(
            num_train_videos=self.num_train_videos,
            pretrain_epochs=self.pretrain_epochs,
            frame_epochs=self.frame_epochs,
            finetune_epochs=self.finetune_epochs,
            warmup_epochs=self.warmup_epochs,
            finetune_scale=self.finetune_scale,
            warmup_floor_steps=self.warmup_floor_steps)
