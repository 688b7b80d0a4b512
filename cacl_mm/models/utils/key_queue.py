"""``KeyQueue``: MoCo's memory of past momentum keys, the negatives."""
from __future__ import annotations
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmaction.registry import MODELS


@MODELS.register_module()
class KeyQueue(BaseModule):
    """A circular queue of L2-normalised keys and the video of each.

    Starts with random unit vectors (video -1: never masked). The keys of
    every training step replace the oldest ones. Everything is a buffer, so
    checkpoints hold the queue and ``--resume`` continues it.

    Args:
        length (int): Number of keys K. Defaults to 6400 (the released code).
        dims (int): Key size, the neck's ``out_channels``; set by the model.
    """

    def __init__(self, length: int = 6400, dims: int = 128) -> None:
        super().__init__()
        if length < 1:
            raise ValueError(f'queue.length must be >= 1, got {length}')
        self.length = length
        self.register_buffer('keys',
                             F.normalize(torch.randn(length, dims), dim=1))
        # Dataset index of each key's video; -1: unknown (initial keys).
        self.register_buffer('ids', torch.full((length, ),
                                               -1,
                                               dtype=torch.long))
        self.register_buffer('ptr', torch.zeros(1, dtype=torch.long))

    @torch.no_grad()
    def enqueue(self,
                keys: torch.Tensor,
                ids: Optional[torch.Tensor] = None) -> None:
        """Write keys in place of the oldest ones.

        Args:
            keys (torch.Tensor): (M, dims) keys of all ranks, M <= length.
            ids (torch.Tensor, optional): (M,) video index of each key; None
                stores -1 (never masked).
        """
        count = keys.shape[0]
        if count > self.length:
            raise ValueError(
                f'queue.length={self.length} is smaller than the {count} '
                'keys of one step (batch size x world size)')
        ptr = int(self.ptr)
        idx = (ptr +
               torch.arange(count, device=self.keys.device)) % self.length
        self.keys[idx] = keys.to(self.keys.dtype)
        self.ids[idx] = -1 if ids is None else ids.to(
            device=self.ids.device, dtype=torch.long)
        self.ptr[0] = (ptr + count) % self.length
