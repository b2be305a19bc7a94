from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmssl.registry import MODELS


@MODELS.register_module()
class FIFOQueue(nn.Module):
    """A FIFO queue of the L2-normalised vectors of past batches.

    What it holds is the owner's: negative keys for MoCo (:class:`QueueKeys`) and DenseCL
    (global keys, and dense keys pooled per image), past projections of a global view
    for SwAV (they shape its Sinkhorn codes, they are not negatives).

    The vectors and the write pointer are buffers (``keys``, ``ptr``), so they are part
    of the state dict: a checkpoint saves them and a resume restores them exactly.

    Args:
        dim: D, the dimension of a vector.
        length: K, the number of vectors held. Each :meth:`enqueue` must bring a number
            of vectors that divides K, so the oldest are always replaced whole batches
            at a time and the pointer wraps to 0 exactly.
        length_key: the config key that sets ``length``, named by the error on a batch
            that does not divide it.
    """

    def __init__(self, dim: int, length: int, length_key: str = 'the queue length') -> None:
        super().__init__()
        if dim <= 0 or length <= 0:
            raise ValueError(f'FIFOQueue needs dim > 0 and length > 0, '
                             f'got dim={dim}, length={length}')
        self.dim, self.length, self.length_key = dim, length, length_key
        # Random unit vectors until real ones replace them, as in MoCo.
        self.register_buffer('keys', F.normalize(torch.randn(length, dim), dim=1))
        self.register_buffer('ptr', torch.zeros((), dtype=torch.long))

    def snapshot(self) -> Tensor:
        """(K, D) a copy of the vectors, safe to use in a graph before :meth:`enqueue`."""
        return self.keys.clone()

    @torch.no_grad()
    def enqueue(self, batch: Tensor) -> None:
        """Replace the oldest vectors by ``batch`` (B, D), already gathered from all ranks.

        Raises:
            ValueError: if D differs from the queue's or K is not a multiple of B.
        """
        if batch.ndim != 2 or batch.shape[1] != self.dim:
            raise ValueError(f'FIFOQueue(dim={self.dim}) cannot take vectors of shape '
                             f'{tuple(batch.shape)}; expected (batch, {self.dim})')
        size = batch.shape[0]
        if self.length % size:
            raise ValueError(
                f'queue length {self.length} is not a multiple of the global batch '
                f'{size}; set {self.length_key} to a multiple of it')
        # The pointer stays a tensor (no .item(), no host sync); the write is a
        # contiguous block because the length is a multiple of the batch.
        rows = self.ptr + torch.arange(size, device=self.ptr.device)
        self.keys.index_copy_(0, rows, batch.to(self.keys.dtype))
        self.ptr.copy_((self.ptr + size) % self.length)

    def extra_repr(self) -> str:
        return f'dim={self.dim}, length={self.length}'


def neck_output_dim(neck: Optional[nn.Module]) -> Optional[int]:
    """D of the vectors a projection neck outputs, or None where it cannot be told.

    Its ``out_channels`` attribute if it has one (mmpretrain's ``LinearNeck``), else the
    output size of its last linear or convolution layer (``MoCoV2Neck``,
    ``NonLinearNeck``, ``DenseCLNeck``, ``SwAVNeck``, mmssl's ``MLPNeck``).
    """
    if neck is None:
        return None
    out_channels = getattr(neck, 'out_channels', None)
    if isinstance(out_channels, int):
        return out_channels
    for module in reversed(list(neck.modules())):
        if isinstance(module, nn.Linear):
            return module.out_features
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            return module.out_channels
    return None


def check_neck_output_dim(neck: Optional[nn.Module], dim: int, dim_key: str) -> None:
    """Refuse, at build time, a queue (or bank) whose D differs from the neck's output.

    Raises:
        ValueError: naming ``model.neck.out_channels`` and ``dim_key`` with their values.
    """
    out_dim = neck_output_dim(neck)
    if out_dim is not None and out_dim != dim:
        raise ValueError(f'model.neck.out_channels={out_dim} does not match {dim_key}={dim}: '
                         f'both are D of the neck\'s outputs; set them equal')


def rename_state_prefixes(state_dict: dict, prefix: str, renames: dict[str, str]) -> None:
    """Rename, in place, the keys ``prefix + old`` to ``prefix + new`` of a state dict.

    For a ``_load_from_state_dict`` that loads checkpoints of an older attribute layout.
    """
    for key in list(state_dict):
        for old, new in renames.items():
            if key.startswith(prefix + old):
                state_dict[prefix + new + key[len(prefix + old):]] = state_dict.pop(key)
                break
