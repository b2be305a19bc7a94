import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmssl.registry import MODELS


@MODELS.register_module()
class NegativeQueue(nn.Module):
    """A FIFO queue of L2-normalised keys, used as negatives (MoCo, DenseCL, SwAV).

    The keys and the write pointer are buffers, so they are part of the state dict: a
    checkpoint saves them and a resume restores them exactly.

    Args:
        dim: D, the dimension of a key.
        length: K, the number of keys held. Each :meth:`enqueue` must bring a number of
            keys that divides K, so the oldest keys are always replaced whole batches at
            a time and the pointer wraps to 0 exactly.
        length_key: the config key that sets ``length``, named by the error on a batch
            that does not divide it.
    """

    def __init__(self, dim: int, length: int, length_key: str = 'the queue length') -> None:
        super().__init__()
        if dim <= 0 or length <= 0:
            raise ValueError(f'NegativeQueue needs dim > 0 and length > 0, '
                             f'got dim={dim}, length={length}')
        self.dim, self.length, self.length_key = dim, length, length_key
        # Random unit vectors until real keys replace them, as in MoCo.
        self.register_buffer('keys', F.normalize(torch.randn(length, dim), dim=1))
        self.register_buffer('ptr', torch.zeros((), dtype=torch.long))

    def snapshot(self) -> Tensor:
        """(K, D) a copy of the keys, safe to use in a graph before :meth:`enqueue`."""
        return self.keys.clone()

    @torch.no_grad()
    def enqueue(self, batch_keys: Tensor) -> None:
        """Replace the oldest keys by ``batch_keys`` (B, D), already gathered from all ranks.

        Raises:
            ValueError: if D differs from the queue's or K is not a multiple of B.
        """
        if batch_keys.ndim != 2 or batch_keys.shape[1] != self.dim:
            raise ValueError(f'NegativeQueue(dim={self.dim}) cannot take keys of shape '
                             f'{tuple(batch_keys.shape)}; expected (batch, {self.dim})')
        batch = batch_keys.shape[0]
        if self.length % batch:
            raise ValueError(
                f'queue length {self.length} is not a multiple of the global batch '
                f'{batch}; set {self.length_key} to a multiple of it')
        # The pointer stays a tensor (no .item(), no host sync); the write is a
        # contiguous block because the length is a multiple of the batch.
        rows = self.ptr + torch.arange(batch, device=self.ptr.device)
        self.keys.index_copy_(0, rows, batch_keys.to(self.keys.dtype))
        self.ptr.copy_((self.ptr + batch) % self.length)

    def extra_repr(self) -> str:
        return f'dim={self.dim}, length={self.length}'
