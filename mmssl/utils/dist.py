"""Distributed helpers, in one place (docs/contributing.md, convention 4).

All of them work without an initialised process group, where they reduce to the identity
(one process holds the whole batch). Every rank must pass tensors of the same shape
(the training dataloaders use ``drop_last=True``).
"""
import torch
import torch.distributed as torch_dist
from torch import Tensor


def is_distributed() -> bool:
    """Whether a default process group is initialised with more than one rank."""
    return (torch_dist.is_available() and torch_dist.is_initialized()
            and torch_dist.get_world_size() > 1)


def get_world_size() -> int:
    return torch_dist.get_world_size() if is_distributed() else 1


def get_rank() -> int:
    return torch_dist.get_rank() if is_distributed() else 0


@torch.no_grad()
def concat_all_gather(tensor: Tensor) -> Tensor:
    """Concatenate ``tensor`` (N, ...) from all ranks in rank order: (world_size * N, ...).

    No gradient flows back (for queues and memory banks).
    """
    if not is_distributed():
        return tensor
    gathered = [torch.empty_like(tensor) for _ in range(torch_dist.get_world_size())]
    torch_dist.all_gather(gathered, tensor.contiguous())
    return torch.cat(gathered, dim=0)


class _GatherWithGrad(torch.autograd.Function):
    """All-gather whose backward all-reduces the gradient and keeps this rank's slice.

    Each rank's loss depends on every rank's samples, so the gradient for this rank's
    samples is the sum of the gradients that all ranks computed for them. A backward that
    returned only the local slice of the local gradient would drop those terms.
    """

    @staticmethod
    def forward(ctx, tensor: Tensor) -> Tensor:
        world_size = torch_dist.get_world_size()
        ctx.rank, ctx.batch = torch_dist.get_rank(), tensor.shape[0]
        gathered = [torch.empty_like(tensor) for _ in range(world_size)]
        torch_dist.all_gather(gathered, tensor.contiguous())
        return torch.cat(gathered, dim=0)

    @staticmethod
    def backward(ctx, grad_output: Tensor) -> Tensor:
        grad = grad_output.contiguous()
        torch_dist.all_reduce(grad, op=torch_dist.ReduceOp.SUM)
        return grad[ctx.rank * ctx.batch:(ctx.rank + 1) * ctx.batch]


def gather_with_grad(tensor: Tensor) -> Tensor:
    """Concatenate ``tensor`` (N, ...) from all ranks, (world_size * N, ...), with gradient.

    Use it where every rank computes a loss over the global batch (NT-Xent): the
    resulting parameter gradients, averaged over ranks by DDP, equal those of one process
    holding the whole batch.
    """
    if not is_distributed():
        return tensor
    return _GatherWithGrad.apply(tensor)


@torch.no_grad()
def batch_shuffle_ddp(batch: Tensor) -> tuple[Tensor, Tensor]:
    """Shuffle the global batch across ranks (Shuffling BN of MoCo).

    Args:
        batch: (N, ...) this rank's samples.

    Returns:
        This rank's N samples of the shuffled global batch, and the permutation
        (world_size * N,) that :func:`batch_unshuffle_ddp` needs to undo it. The
        permutation is drawn on rank 0 and broadcast, so all ranks agree.
    """
    gathered = concat_all_gather(batch)
    if not is_distributed():
        return batch, torch.arange(batch.shape[0], device=batch.device)
    idx_shuffle = torch.randperm(gathered.shape[0], device=batch.device)
    torch_dist.broadcast(idx_shuffle, src=0)
    idx_unshuffle = torch.argsort(idx_shuffle)
    local = idx_shuffle.view(get_world_size(), -1)[get_rank()]
    return gathered[local], idx_unshuffle


@torch.no_grad()
def batch_unshuffle_ddp(batch: Tensor, idx_unshuffle: Tensor) -> Tensor:
    """Undo :func:`batch_shuffle_ddp` on outputs computed from the shuffled batch.

    Args:
        batch: (N, ...) outputs for this rank's shuffled samples.
        idx_unshuffle: (world_size * N,) from :func:`batch_shuffle_ddp`.

    Returns:
        (N, ...) the outputs for this rank's original samples, in their original order.
    """
    if not is_distributed():
        return batch
    gathered = concat_all_gather(batch)
    local = idx_unshuffle.view(get_world_size(), -1)[get_rank()]
    return gathered[local]
