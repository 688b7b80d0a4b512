"""``BaseMoCo``: what every momentum-contrast model here shares."""
from __future__ import annotations
import warnings
from typing import Callable, Dict, Mapping, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.model import BaseModel, ExponentialMovingAverage

from mmaction.registry import MODELS
from mmaction.utils import OptConfigType, SampleList
from ...utils.run_state import describe_run_state
from ..heads.cross_arch_contrastive_head import Negatives
from ..utils.encoders import CNNEncoder
from ..utils.pooling import mean_over_clips
from ..utils.representations import Arch, Representation


def stack_sample_field(data_samples: SampleList, key: str,
                       device: torch.device) -> torch.Tensor:
    """(N, ...) long tensor of a per-sample field (``shuffle_order``,
    ``med_label``), with an error that names the pipeline fix."""
    values = [sample.get(key) for sample in data_samples]
    if any(v is None for v in values):
        raise KeyError(
            f'data sample has no "{key}": add ShuffleByMED to the train '
            f"pipeline and PackActionInputs(algorithm_keys=('shuffle_order', "
            f"'med_label'))")
    return torch.as_tensor(
        np.stack([np.asarray(v) for v in values]),
        dtype=torch.long,
        device=device)


def build_data_preprocessor(cfg: OptConfigType) -> nn.Module:
    """``ActionDataPreprocessor(format_shape='NCTHW')``, unless ``cfg``.

    Built from mmaction's registry, so no default scope is needed.
    """
    if cfg is None:
        cfg = dict(type='ActionDataPreprocessor', format_shape='NCTHW')
    return MODELS.build(cfg) if isinstance(cfg, dict) else cfg


class BaseMoCo(BaseModel):
    """Momentum encoders, key queues and loss checks shared by our models.

    A subclass builds ``backbone``, ``contrast_head`` (or None) and its
    necks, implements :meth:`online_encoder`, then calls
    :meth:`build_queues` and :meth:`build_momentum_encoders`. Its ``loss``
    ends with :meth:`contrast`, which keeps the step's momentum keys until
    ``MoCoQueueHook`` calls :meth:`after_optimizer_step`.

    Args:
        momentum (float): MoCo momentum m of the key encoders, MoCo's
            convention ``key = m * key + (1 - m) * online``.
        queue (dict, optional): The ``KeyQueue`` config of each architecture
            whose keys are negatives. Defaults to ``dict(type='KeyQueue')``.
        data_preprocessor (dict, optional): Defaults to
            ``ActionDataPreprocessor`` with ``format_shape='NCTHW'``.
        channels_last (bool): Run the CNN backbones in channels-last layout
            (``torch.channels_last_3d`` for clips), which cuDNN's fastest
            3D kernels (tensor cores, AMP) prefer. Defaults to False.
        init_cfg (dict, optional): Initialisation config.
    """

    #: Dimensions of one backbone input batch (5 for NCTHW clips).
    input_ndim = 5

    def __init__(self,
                 momentum: float = 0.999,
                 queue: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 channels_last: bool = False,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(
            data_preprocessor=build_data_preprocessor(data_preprocessor),
            init_cfg=init_cfg)
        if not 0. <= momentum <= 1.:
            raise ValueError(
                f'model.momentum must be in [0, 1], got {momentum}')
        self.momentum = momentum
        self.channels_last = channels_last
        self.queue_cfg = dict(queue or dict(type='KeyQueue'))
        #: This step's loss terms, for fault messages (FiniteGradientHook).
        self.last_loss_terms: Dict[str, object] = {}
        self._pending_keys: Optional[Dict[Arch, torch.Tensor]] = None
        self._pending_ids: Optional[torch.Tensor] = None
        self._warned: set = set()

    # ------------------------------------------------------------ building
    def online_encoder(self, arch: Arch) -> nn.Module:
        """The online encoder of ``arch`` (views of modules the model owns)."""
        raise NotImplementedError

    def momentum_encoder(self, arch: Arch) -> nn.Module:
        """The momentum (key) encoder of ``arch``."""
        return self.momentum_encoders[arch.value].module

    @staticmethod
    def build_contrast_head(cfg: OptConfigType) -> Optional[nn.Module]:
        """``model.contrast_head`` (None: no contrastive loss)."""
        return MODELS.build(cfg) if cfg else None

    def build_if_used(self, cfg: OptConfigType, key: str,
                      used: bool) -> Optional[nn.Module]:
        """``model.<key>`` (a neck, the Transformer) if the pairs use it."""
        if not used:
            return None
        if cfg is None:
            raise ValueError(f'model.contrast_head.pairs need model.{key}, '
                             'which is not set')
        return MODELS.build(cfg)

    def build_queues(self, necks: Sequence[Optional[nn.Module]]) -> None:
        """One ``KeyQueue`` per architecture whose keys are negatives."""
        dims = {neck.out_channels for neck in necks if neck is not None}
        if len(dims) > 1:
            raise ValueError(f'the necks\' out_channels differ: {sorted(dims)}'
                             '; the pairs compare their embeddings')
        archs = self.contrast_head.queue_archs if self.contrast_head else ()
        self.queues = nn.ModuleDict({
            arch.value:
            MODELS.build(dict(self.queue_cfg, dims=min(dims)))
            for arch in archs
        })

    def build_momentum_encoders(self, archs: Sequence[Arch]) -> None:
        """An ``ExponentialMovingAverage`` copy of each online encoder."""
        self.momentum_encoders = nn.ModuleDict()
        for arch in archs:
            online = self.online_encoder(arch)
            # mmengine's EMA weighs the online model: 1 - m.
            ema = ExponentialMovingAverage(online, momentum=1. - self.momentum)
            # mmengine's step-0 update copies; every later one is an EMA step.
            ema.update_parameters(online)
            self.momentum_encoders[arch.value] = ema

    def init_weights(self) -> None:
        """Initialise, then make the momentum encoders exact copies."""
        super().init_weights()
        for arch, ema in self.momentum_encoders.items():
            ema.module.load_state_dict(
                self.online_encoder(Arch(arch)).state_dict())

    # ----------------------------------------------------------- the queue
    def negatives(self) -> Dict[Arch, Negatives]:
        """Each queue's (K, D) keys and (K,) video indices, for the head."""
        return {Arch(a): (q.keys, q.ids) for a, q in self.queues.items()}

    def check_queue(self, keys_per_step: int, num_videos: int) -> None:
        """Refuse queues that one step overflows or that hold own keys.

        Args:
            keys_per_step (int): Batch size x world size.
            num_videos (int): Distinct training videos.
        """
        if self.contrast_head is None:
            return
        for queue in self.queues.values():
            if queue.length < keys_per_step:
                raise ValueError(
                    f'model.queue.length={queue.length} is smaller than the '
                    f'keys of one step ({keys_per_step}: train_dataloader.'
                    'batch_size x processes)')
            if queue.length >= num_videos and \
                    not self.contrast_head.mask_same_video:
                raise ValueError(
                    f'model.queue.length={queue.length} must stay below the '
                    f"number of training videos ({num_videos}), or a video's "
                    'own earlier keys become its negatives: set '
                    f'model.queue.length={max(keys_per_step, num_videos // 2)}'
                    ' or model.contrast_head.mask_same_video=True')

    def contrast(self, embeddings: Mapping[Representation, torch.Tensor],
                 data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """The contrastive loss; keeps the momentum keys for the queues.

        Args:
            embeddings (Mapping): (N, D) unit vectors of the head's
                ``needed`` representations.
            data_samples (list[ActionDataSample]): With ``sample_idx``.
        """
        if self._pending_keys is not None and 'hook' not in self._warned:
            warnings.warn(f'{type(self).__name__}: momentum keys of the '
                          'previous step were never consumed; add '
                          'MoCoQueueHook to custom_hooks, or the momentum '
                          'encoders and queues never update')
            self._warned.add('hook')
        first = next(iter(embeddings.values()))
        sample_ids = self.sample_ids(data_samples, first.device)
        losses = self.contrast_head.loss(embeddings, self.negatives(),
                                         sample_ids)
        self._pending_keys = {
            r.arch: e.detach()
            for r, e in embeddings.items()
            if r.momentum and r.arch.value in self.queues
        }
        self._pending_ids = sample_ids
        return losses

    @torch.no_grad()
    def momentum_update(self, momentum: Optional[float] = None) -> None:
        """One EMA step of every momentum encoder (after the optimizer step).

        Args:
            momentum (float, optional): MoCo momentum m for this step (a
                schedule); defaults to ``self.momentum``.
        """
        m = self.momentum if momentum is None else momentum
        for arch, ema in self.momentum_encoders.items():
            ema.momentum = 1. - m
            ema.update_parameters(self.online_encoder(Arch(arch)))

    @torch.no_grad()
    def enqueue_pending_keys(
            self,
            gather: Callable[[torch.Tensor],
                             torch.Tensor] = lambda x: x) -> None:
        """Write the keys of the last ``loss()`` call into the queues, once.

        Args:
            gather (Callable): Concatenates a tensor over all ranks in rank
                order (identity in one process), so every rank writes the
                same queue.
        """
        keys, ids = self._pending_keys or {}, self._pending_ids
        self._pending_keys = self._pending_ids = None
        gathered_ids = None if ids is None else gather(ids)
        for arch, arch_keys in keys.items():
            self.queues[arch.value].enqueue(gather(arch_keys), gathered_ids)

    def after_optimizer_step(
            self,
            momentum: Optional[float] = None,
            gather: Callable[[torch.Tensor],
                             torch.Tensor] = lambda x: x) -> None:
        """MoCo's update: EMA step of the key encoders, then the enqueue."""
        self.momentum_update(momentum)
        self.enqueue_pending_keys(gather)

    def sample_ids(self, data_samples: SampleList,
                   device: torch.device) -> Optional[torch.Tensor]:
        """(N,) dataset index of each sample's video, or None if not packed.

        ``PackActionInputs(algorithm_keys=(..., 'sample_idx'))`` packs it.
        """
        values = [
            None if sample is None else sample.get('sample_idx')
            for sample in data_samples or []
        ]
        if not values or any(v is None for v in values):
            masking = self.contrast_head.mask_same_video
            if masking and 'ids' not in self._warned:
                warnings.warn(
                    f'{type(self).__name__}: contrast_head.mask_same_video is '
                    "on but the data samples carry no 'sample_idx': add it to "
                    'PackActionInputs(algorithm_keys=...) in the train '
                    'pipeline, or a video can meet its own keys as negatives')
                self._warned.add('ids')
            return None
        return torch.as_tensor([int(v) for v in values],
                               dtype=torch.long,
                               device=device)

    # ------------------------------------------------------------ inference
    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """(N, ...) or (N, M, ...) backbone inputs -> (N, D) pooled features
        (averaged over the M clips)."""
        encoder = CNNEncoder(self.backbone, channels_last=self.channels_last)
        return mean_over_clips(encoder.features, inputs, self.input_ndim)

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
                f'{describe_run_state(self.last_loss_terms)}. Stopped before '
                'the optimizer step, so no checkpoint holds this state; lower '
                'the learning rate or set optim_wrapper.clip_grad='
                'dict(max_norm=...).')
        loss, log_vars = super().parse_losses(losses)
        # Detached, read only when a message is written: no GPU sync per step.
        self.last_loss_terms = {
            k: v.detach() if isinstance(v, torch.Tensor) else v
            for k, v in log_vars.items()
        }
        return loss, log_vars
