"""Shuffle-BN: keep BatchNorm statistics from leaking batch identity.

With BatchNorm, a query and its positive key computed from the same
mini-batch share batch statistics, which the network can exploit to find the
positive instead of learning the content. MoCo's remedy is to compute the
keys on a batch permuted across devices, so the key of a sample is
normalised with statistics of other samples than its query.

* Several processes: gather the key inputs of all ranks, permute them with a
  permutation broadcast from rank 0, and give each rank one slice
  (:func:`batch_shuffle` / :func:`batch_unshuffle`).
* One process: there is only one BatchNorm group, so permuting alone changes
  nothing. The equivalent is to permute and then normalise in several
  sub-batches (:func:`split_bn_forward`), as each GPU would.
"""
from __future__ import annotations
from typing import Callable, Tuple

import torch
from mmengine import dist


def _gather(tensor: torch.Tensor) -> torch.Tensor:
    sizes = dist.all_gather(
        torch.tensor([tensor.shape[0]], device=tensor.device))
    if len({int(s) for s in sizes}) != 1:
        raise RuntimeError(
            'shuffle-BN needs the same batch size on every rank, got '
            f'{[int(s) for s in sizes]}; keep the default sampler (it pads '
            'the last batch) or set drop_last=True in train_dataloader')
    return torch.cat(dist.all_gather(tensor.contiguous()), dim=0)


@torch.no_grad()
def batch_shuffle(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Permute a batch across all ranks.

    Args:
        x (torch.Tensor): This rank's batch, shape (N, ...).

    Returns:
        tuple: This rank's slice of the permuted global batch (N, ...) and
        the inverse permutation of the global batch (world_size * N,).
    """
    gathered = _gather(x)
    world_size, rank = dist.get_world_size(), dist.get_rank()
    idx_shuffle = torch.randperm(gathered.shape[0], device=x.device)
    dist.broadcast(idx_shuffle, src=0)
    idx_unshuffle = torch.argsort(idx_shuffle)
    idx_this = idx_shuffle.view(world_size, -1)[rank]
    return gathered[idx_this], idx_unshuffle


@torch.no_grad()
def batch_unshuffle(x: torch.Tensor,
                    idx_unshuffle: torch.Tensor) -> torch.Tensor:
    """Undo :func:`batch_shuffle` on the encoder's output.

    Args:
        x (torch.Tensor): This rank's outputs in permuted order, (N, ...).
        idx_unshuffle (torch.Tensor): From :func:`batch_shuffle`.

    Returns:
        torch.Tensor: This rank's outputs in the original order, (N, ...).
    """
    gathered = _gather(x)
    world_size, rank = dist.get_world_size(), dist.get_rank()
    return gathered[idx_unshuffle.view(world_size, -1)[rank]]


@torch.no_grad()
def split_bn_forward(encoder: Callable[[torch.Tensor], torch.Tensor],
                     x: torch.Tensor, num_splits: int) -> torch.Tensor:
    """Single-process shuffle-BN: permute, encode in sub-batches, restore.

    Args:
        encoder (Callable): Maps (n, ...) inputs to (n, D) outputs.
        x (torch.Tensor): Inputs of shape (N, ...).
        num_splits (int): BatchNorm groups to emulate (capped at N).

    Returns:
        torch.Tensor: Outputs of shape (N, D) in the original order.
    """
    num_splits = max(1, min(num_splits, x.shape[0]))
    idx_shuffle = torch.randperm(x.shape[0], device=x.device)
    outputs = torch.cat(
        [encoder(chunk) for chunk in x[idx_shuffle].chunk(num_splits)])
    return outputs[torch.argsort(idx_shuffle)]


@torch.no_grad()
def shuffle_bn_forward(encoder: Callable[[torch.Tensor], torch.Tensor],
                       x: torch.Tensor,
                       num_splits: int = 2) -> torch.Tensor:
    """Run a key encoder with shuffle-BN, distributed or not.

    Args:
        encoder (Callable): Maps (n, ...) inputs to (n, D) outputs.
        x (torch.Tensor): This rank's inputs, (N, ...).
        num_splits (int): Sub-batches for the single-process equivalent.

    Returns:
        torch.Tensor: Outputs (N, D) aligned with ``x``.
    """
    if dist.get_world_size() > 1:
        shuffled, idx_unshuffle = batch_shuffle(x)
        return batch_unshuffle(encoder(shuffled), idx_unshuffle)
    return split_bn_forward(encoder, x, num_splits)
