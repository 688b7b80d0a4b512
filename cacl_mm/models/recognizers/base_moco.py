"""``BaseMoCo``: what every momentum-contrast model here shares."""
from __future__ import annotations

import warnings
from typing import Callable, Dict, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel

from mmaction.registry import MODELS
from mmaction.utils import OptConfigType, SampleList
from ...utils.run_state import describe_run_state, record_losses


def pool_features(feats: Union[torch.Tensor, tuple],
                  keep_time: bool = False) -> torch.Tensor:
    """Global-average-pool a backbone output to (N, D).

    Accepts (N, C, [T,] H, W) feature maps (ResNet3d, R(2+1)D, 2D ResNet),
    (N, D) vectors (C3D's fc7) or a tuple of stages (the last is used).
    With ``keep_time``, (N, C, T, H, W) maps are pooled over space only and
    flattened to (N, C * T): one feature vector per time slot.
    """
    if isinstance(feats, (tuple, list)):
        feats = feats[-1]
    if keep_time:
        if feats.ndim != 5:
            raise ValueError(
                'a time-resolved feature needs (N, C, T, H, W) feature maps; '
                f'this backbone gives shape {tuple(feats.shape)}')
        return feats.mean(dim=(3, 4)).flatten(1)
    if feats.ndim > 2:
        feats = feats.flatten(2).mean(dim=2)
    return feats


def build_data_preprocessor(cfg: OptConfigType) -> nn.Module:
    """``ActionDataPreprocessor(format_shape='NCTHW')`` unless ``cfg`` says else.

    Built from mmaction's registry, so no default scope is needed.
    """
    if cfg is None:
        cfg = dict(type='ActionDataPreprocessor', format_shape='NCTHW')
    return MODELS.build(cfg) if isinstance(cfg, dict) else cfg


class CNNBranch(nn.Module):
    """CNN backbone + projection: one contrastive encoder.

    Holds references to modules owned elsewhere; a momentum encoder is a deep
    copy of it made by :class:`mmengine.model.ExponentialMovingAverage`.
    """

    def __init__(self, backbone: nn.Module, projection: nn.Module,
                 channels_last: bool = False) -> None:
        super().__init__()
        self.backbone = backbone
        self.projection = projection
        self.channels_last = channels_last

    def feature_maps(self, inputs: torch.Tensor) -> torch.Tensor:
        """Backbone inputs -> the backbone's output, unpooled."""
        return self.backbone(to_memory_format(inputs, self.channels_last))

    def features(self, inputs: torch.Tensor) -> torch.Tensor:
        """Backbone inputs -> (N, D) pooled features."""
        return pool_features(self.feature_maps(inputs))


def to_memory_format(x: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """``x`` in channels-last layout (5-D: ``channels_last_3d``) if asked."""
    if not channels_last or x.ndim not in (4, 5):
        return x
    return x.contiguous(memory_format=torch.channels_last_3d
                        if x.ndim == 5 else torch.channels_last)


def convert_channels_last(module: nn.Module) -> nn.Module:
    """Conv weights of ``module`` in channels-last layout (3-D and 2-D)."""
    for param in module.parameters():
        if param.ndim in (4, 5):
            param.data = to_memory_format(param.data, True)
    return module


class BaseMoCo(BaseModel):
    """Momentum encoders, key hand-over and loss checks shared by our models.

    Subclasses own a ``backbone``, a ``contrast_head`` (or None) and
    ``ExponentialMovingAverage`` momentum encoders listed by
    :meth:`momentum_encoders`; their ``loss`` stores the new keys in
    ``self._pending_keys`` for ``MoCoQueueHook``.

    Args:
        momentum (float): MoCo momentum m of the key encoders, MoCo's
            convention ``key = m * key + (1 - m) * online``.
        data_preprocessor (dict, optional): Defaults to
            ``ActionDataPreprocessor`` with ``format_shape='NCTHW'``.
        channels_last (bool): Run the CNN backbones in channels-last layout
            (``torch.channels_last_3d`` for clips), which cuDNN's fastest
            3D kernels (tensor cores, AMP) prefer. Defaults to False.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self, momentum: float = 0.999,
                 data_preprocessor: OptConfigType = None,
                 channels_last: bool = False,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(
            data_preprocessor=build_data_preprocessor(data_preprocessor),
            init_cfg=init_cfg)
        if not 0. <= momentum <= 1.:
            raise ValueError(f'model.momentum must be in [0, 1], got {momentum}')
        self.momentum = momentum
        self.channels_last = channels_last
        self._pending_keys: Optional[Dict[str, torch.Tensor]] = None
        self._pending_ids: Optional[torch.Tensor] = None
        self._warned_no_hook = False
        self._warned_no_ids = False

    def momentum_encoders(self) -> Dict[str, tuple]:
        """``{arch: (ema_module, online_branch)}``."""
        raise NotImplementedError

    def init_weights(self) -> None:
        """Initialise, then make the momentum encoders exact copies."""
        super().init_weights()
        for ema, online in self.momentum_encoders().values():
            ema.module.load_state_dict(online.state_dict())

    @torch.no_grad()
    def momentum_update(self, momentum: Optional[float] = None) -> None:
        """One EMA step of every momentum encoder (call after optimizer step).

        Args:
            momentum (float, optional): MoCo momentum m for this step (a
                schedule); defaults to ``self.momentum``.
        """
        m = self.momentum if momentum is None else momentum
        for ema, online in self.momentum_encoders().values():
            # mmengine's EMA weighs the online model: 1 - m.
            ema.momentum = 1. - m
            if ema.steps == 0:
                # The copy made at construction (and by init_weights) is
                # mmengine's step-0 copy; every update is an EMA step.
                ema.steps += 1
            ema.update_parameters(online)

    def pop_pending_keys(self) -> Dict[str, torch.Tensor]:
        """The momentum keys of the last ``loss()`` call, handed over once."""
        keys, self._pending_keys = self._pending_keys or {}, None
        self._pending_ids = None
        return keys

    def _set_pending_keys(self, keys: Dict[str, torch.Tensor],
                          sample_ids: Optional[torch.Tensor]) -> None:
        """Keep this step's momentum keys (and their videos) for the queue."""
        self._pending_keys = {k: v.detach() for k, v in keys.items()}
        self._pending_ids = sample_ids

    @torch.no_grad()
    def enqueue_pending_keys(
            self,
            gather: Callable[[torch.Tensor], torch.Tensor] = lambda x: x
    ) -> None:
        """Write the keys of the last ``loss()`` call into the queues.

        Args:
            gather (Callable): Concatenates a tensor over all ranks in rank
                order (identity in one process), so every rank writes the
                same queue.
        """
        ids = self._pending_ids
        keys = self.pop_pending_keys()
        if not keys or self.contrast_head is None:
            return
        gathered_ids = None if ids is None else gather(ids)
        for arch, arch_keys in keys.items():
            self.contrast_head.enqueue(arch, gather(arch_keys), gathered_ids)

    def sample_ids(self, data_samples: SampleList,
                   device: torch.device) -> Optional[torch.Tensor]:
        """(N,) dataset index of each sample's video, or None if not packed.

        ``PackActionInputs(algorithm_keys=(..., 'sample_idx'))`` packs it;
        ``RepeatDataset`` keeps the index of the repeated video.
        """
        values = [
            None if sample is None else sample.get('sample_idx')
            for sample in data_samples or []
        ]
        if not values or any(v is None for v in values):
            head = getattr(self, 'contrast_head', None)
            if head is not None and head.mask_same_video and \
                    not self._warned_no_ids:
                warnings.warn(
                    f'{type(self).__name__}: contrast_head.mask_same_video is '
                    "on but the data samples carry no 'sample_idx': add it to "
                    'PackActionInputs(algorithm_keys=...) in the train '
                    'pipeline, or a video can meet its own keys as negatives')
                self._warned_no_ids = True
            return None
        return torch.as_tensor([int(v) for v in values], dtype=torch.long,
                               device=device)

    def _warn_if_keys_unconsumed(self) -> None:
        if self._pending_keys is not None and not self._warned_no_hook:
            warnings.warn(f'{type(self).__name__}: momentum keys of the '
                          'previous step were never consumed; add '
                          'MoCoQueueHook to custom_hooks, or the momentum '
                          'encoders and queues never update')
            self._warned_no_hook = True

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """Pooled backbone features for downstream use.

        Args:
            inputs (torch.Tensor): (N, ...) backbone inputs, or
                (N, M, ...) with M clips per sample, whose features are
                averaged.

        Returns:
            torch.Tensor: (N, D) features.
        """
        if inputs.ndim == self._input_ndim + 1:
            batch, clips = inputs.shape[:2]
            feats = pool_features(self.backbone(to_memory_format(
                inputs.flatten(0, 1), self.channels_last)))
            return feats.view(batch, clips, -1).mean(dim=1)
        return pool_features(self.backbone(
            to_memory_format(inputs, self.channels_last)))

    #: Dimensions of one backbone input batch (5 for NCTHW clips).
    _input_ndim = 5

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[SampleList] = None,
                mode: str = 'tensor') -> Union[Dict, SampleList, torch.Tensor]:
        """mmengine's entry point: ``loss``, ``predict`` or ``tensor``."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.extract_feat(inputs)
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, '
                           'predict and tensor mode')

    def predict(self, inputs: torch.Tensor,
                data_samples: SampleList) -> SampleList:
        """Attach the (clip-averaged) backbone features as ``feature``."""
        feats = self.extract_feat(inputs)
        for sample, feat in zip(data_samples, feats):
            sample.set_field(feat, 'feature')
        return data_samples

    def parse_losses(self, losses: Dict[str, torch.Tensor]) -> tuple:
        """mmengine's loss parsing, refusing a non-finite loss.

        Both ``BaseModel.train_step`` and mmengine's DDP wrapper call this
        between the forward pass and the optimizer step, so raising here
        stops the run before the bad update: neither the weights nor any
        later checkpoint hold the bad state.

        Raises:
            FloatingPointError: Naming the iteration and the loss terms.
        """
        bad = {
            key: float(value.detach().float().mean())
            for key, value in losses.items()
            if 'loss' in key and isinstance(value, torch.Tensor)
            and not bool(torch.isfinite(value).all())
        }
        if bad:
            terms = ', '.join(f'{k}={v}' for k, v in bad.items())
            raise FloatingPointError(
                f'{type(self).__name__}: non-finite loss {terms}'
                f'{describe_run_state()}. Stopped before the optimizer step, '
                'so no checkpoint holds this state; lower the learning rate '
                'or set optim_wrapper.clip_grad=dict(max_norm=...).')
        loss, log_vars = super().parse_losses(losses)
        record_losses(log_vars)
        return loss, log_vars
