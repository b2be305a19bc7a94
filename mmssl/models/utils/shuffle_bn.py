"""Shuffling BN (MoCo): keys are computed on a batch shuffled across BN groups.

With several processes the global batch is shuffled across ranks, each rank's BN sees a
random subset, and the outputs are unshuffled. With one process there is no other rank
to shuffle with; ``bn_splits > 1`` then emulates ``bn_splits`` GPUs, as the MoCo authors'
CIFAR demo does with its SplitBatchNorm: queries are computed per chunk of the batch,
keys per chunk of a randomly permuted batch, so a query and its key never share BN
statistics by construction. ``bn_splits=1`` on one process is plain BN over the batch,
which lets the key encoder see the same statistics as the query encoder.
"""
from typing import Callable

import torch
from torch import Tensor

from mmssl.utils.dist import batch_shuffle_ddp, batch_unshuffle_ddp, is_distributed

Encoder = Callable[[Tensor], Tensor]


def _check_splits(batch: int, bn_splits: int) -> None:
    if bn_splits < 1 or batch % bn_splits:
        raise ValueError(f'bn_splits={bn_splits} must be >= 1 and divide the per-process '
                         f'batch {batch}')


def forward_in_splits(encoder: Encoder, x: Tensor, bn_splits: int) -> Tensor:
    """``encoder`` on ``x`` (N, ...), BN groups of N / bn_splits on a single process."""
    if bn_splits == 1 or is_distributed():
        return encoder(x)
    _check_splits(x.shape[0], bn_splits)
    return torch.cat([encoder(chunk) for chunk in x.chunk(bn_splits)])


@torch.no_grad()
def forward_shuffled(encoder: Encoder, x: Tensor, bn_splits: int = 1) -> Tensor:
    """``encoder`` on ``x`` (N, ...) with Shuffling BN; outputs in the order of ``x``."""
    if is_distributed():
        shuffled, idx_unshuffle = batch_shuffle_ddp(x)
        return batch_unshuffle_ddp(encoder(shuffled), idx_unshuffle)
    if bn_splits == 1:
        return encoder(x)
    _check_splits(x.shape[0], bn_splits)
    perm = torch.randperm(x.shape[0], device=x.device)
    out = torch.cat([encoder(chunk) for chunk in x[perm].chunk(bn_splits)])
    return out[torch.argsort(perm)]
