"""Checkpoint reading helpers: backbone weights out of any model checkpoint.

Every load goes through mmengine's ``_load_checkpoint`` and so ``torch.load``
with its default ``weights_only=True`` (plus the allow-list of
:mod:`cacl_mm.compat`): a checkpoint that would run code is refused.
"""
from __future__ import annotations
import os.path as osp
import pickle
import re
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.runner.checkpoint import _load_checkpoint

from .atomic import atomic_write_path


def load_checkpoint_dict(path: str) -> dict:
    """The whole checkpoint dict (``state_dict``, ``meta``, ...) on the CPU."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    try:
        checkpoint = _load_checkpoint(path, map_location='cpu')
    except pickle.UnpicklingError as error:
        # torch's weights_only unpickler met a global outside the allow-list
        # (cacl_mm.compat): the file would run code or holds unknown types.
        raise pickle.UnpicklingError(
            f'refusing to load {path}: it pickles objects outside the '
            f'weights-only allow-list, so loading could run code. {error}'
        ) from None
    if not isinstance(checkpoint, dict):
        raise ValueError(f'{path} is not a checkpoint dict')
    return checkpoint


def state_dict_of(checkpoint: dict) -> Dict[str, torch.Tensor]:
    """The model weights of a checkpoint dict."""
    return checkpoint.get('state_dict', checkpoint)


def checkpoint_prefix(state: Dict[str, torch.Tensor],
                      prefix: str = 'backbone.') -> str:
    """``prefix`` if some weight in ``state`` starts with it, else ``''``."""
    return prefix if any(k.startswith(prefix) for k in state) else ''


def backbone_weights(state: Dict[str, torch.Tensor], backbone: nn.Module,
                     prefix: str, source: str) -> Dict[str, torch.Tensor]:
    """The weights of ``backbone`` stored under ``prefix`` in ``state``.

    Args:
        state (dict): A checkpoint's weights.
        backbone (nn.Module): A module of the expected architecture; every
            one of its keys must be found with the same shape.
        prefix (str): Key prefix of the backbone (``''`` for a plain state
            dict).
        source (str): Where ``state`` comes from, for the error.

    Returns:
        dict: A state dict loadable into ``backbone`` with ``strict=True``.

    Raises:
        ValueError: Naming ``source`` and the missing or mismatched keys.
    """
    found = {
        k[len(prefix):]: v
        for k, v in state.items() if k.startswith(prefix)
    }
    expected = backbone.state_dict()
    missing = [k for k in expected if k not in found]
    mismatched = [
        f'{k}: {tuple(found[k].shape)} vs {tuple(v.shape)}'
        for k, v in expected.items()
        if k in found and found[k].shape != v.shape
    ]
    if missing or mismatched:
        detail = []
        if missing:
            detail.append(f'{len(missing)} of {len(expected)} keys missing '
                          f'(e.g. {prefix}{missing[0]})')
        if mismatched:
            detail.append('shape mismatch ' + '; '.join(mismatched[:3]))
        raise ValueError(
            f'{source} does not hold a {type(backbone).__name__} backbone '
            f'under prefix {prefix!r}: ' + ', '.join(detail))
    return {k: found[k] for k in expected}


#: torchvision / mmpretrain ResNet names -> MMAction2 ``ResNet`` names (its
#: convolutions are ``ConvModule``s: ``<name>.conv`` and ``<name>.bn``).
_TORCHVISION_TO_MMACTION_RESNET = (
    (re.compile(r'^conv1\.weight$'), 'conv1.conv.weight'),
    (re.compile(r'^bn1\.'), 'conv1.bn.'),
    (re.compile(r'^(layer\d+\.\d+)\.conv(\d)\.weight$'),
     r'\1.conv\2.conv.weight'),
    (re.compile(r'^(layer\d+\.\d+)\.bn(\d)\.'), r'\1.conv\2.bn.'),
    (re.compile(r'^(layer\d+\.\d+)\.downsample\.0\.'), r'\1.downsample.conv.'),
    (re.compile(r'^(layer\d+\.\d+)\.downsample\.1\.'), r'\1.downsample.bn.'),
)


def resnet_names_to_mmaction(
        state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """A 2D ResNet's weights under MMAction2 ``ResNet``'s names.

    torchvision's state dicts and mmpretrain's ``ResNet`` (under its
    ``backbone.`` prefix) name ``conv1.weight``, ``bn1.*``,
    ``layerX.Y.convK.weight``, ``layerX.Y.bnK.*`` and
    ``layerX.Y.downsample.0/1.*``; MMAction2 wraps each conv and its norm
    in a ``ConvModule``. MMAction2's own ``_load_torchvision_checkpoint``
    maps the same names but only logs what it could not load; here every
    name is converted and the caller loads strictly. The classifier
    (``fc.*``) is dropped; weights already in MMAction2's names are
    returned as they are.

    Args:
        state (dict): A ResNet state dict without key prefix.

    Returns:
        dict: The same tensors under MMAction2's names.
    """
    if 'conv1.conv.weight' in state or 'conv1.weight' not in state:
        return state
    converted = {}
    for key, value in state.items():
        if key.startswith('fc.'):
            continue
        for pattern, name in _TORCHVISION_TO_MMACTION_RESNET:
            key, count = pattern.subn(name, key)
            if count:
                break
        converted[key] = value
    return converted


def frame_encoder_state_dict(path: str,
                             encoder: nn.Module) -> Dict[str, torch.Tensor]:
    """The weights of a 2D frame encoder (MMAction2 ``ResNet``) in ``path``.

    Accepts a stage-0 (``FrameMoCo``) checkpoint, an MMAction2 or mmpretrain
    checkpoint with the ResNet under ``backbone.``, and a plain torchvision
    or MMAction2 ResNet state dict (with or without ``fc.*``).

    Returns:
        dict: A state dict loadable into ``encoder`` with ``strict=True``.

    Raises:
        ValueError: Naming ``path`` and the missing or mismatched keys.
    """
    state = state_dict_of(load_checkpoint_dict(path))
    prefix = checkpoint_prefix(state)
    weights = resnet_names_to_mmaction({
        k[len(prefix):]: v
        for k, v in state.items() if k.startswith(prefix)
    })
    return backbone_weights({
        prefix + k: v
        for k, v in weights.items()
    }, encoder, prefix, path)


def backbone_state_dict(
        path: str,
        backbone: nn.Module,
        prefix: Optional[str] = 'backbone.') -> Dict[str, torch.Tensor]:
    """The weights of ``backbone`` stored under ``prefix`` in a checkpoint.

    Args:
        path (str): A CACL, FrameMoCo, Recognizer3D or exported checkpoint.
        backbone (nn.Module): A module of the expected architecture; every
            one of its keys must be found with the same shape.
        prefix (str, optional): Key prefix of the backbone (``''`` for an
            exported, plain backbone state dict); None: ``'backbone.'``
            when the checkpoint has such keys, else ``''``.

    Returns:
        dict: A state dict loadable into ``backbone`` with ``strict=True``.

    Raises:
        ValueError: Naming the checkpoint and the missing or mismatched keys.
    """
    state = state_dict_of(load_checkpoint_dict(path))
    if prefix is None:
        prefix = checkpoint_prefix(state)
    return backbone_weights(state, backbone, prefix, path)


def save_atomic(obj: object, path: str) -> str:
    """``torch.save`` to a temporary file, then rename: never a torn file."""
    with atomic_write_path(path) as tmp:
        torch.save(obj, tmp)
    return path


def backbone_config_from_checkpoint(checkpoint: dict) -> Optional[dict]:
    """``model.backbone`` of the config saved in an mmengine checkpoint."""
    from mmengine.config import Config
    text = checkpoint.get('meta', {}).get('cfg')
    if not text:
        return None
    cfg = Config.fromstring(text, file_format='.py')
    return cfg.model.get('backbone')
