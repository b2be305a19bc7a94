"""Barlow Twins' cross-correlation loss over the global batch."""
import torch
from torch import Tensor, nn

from mmssl.models.losses import barlow_twins_loss
from mmssl.registry import MODELS
from mmssl.utils.dist import gather_with_grad


@MODELS.register_module()
class BarlowTwinsHead(nn.Module):
    """:func:`barlow_twins_loss` of the two views' embeddings of the global batch.

    The embeddings of every rank are gathered with :func:`gather_with_grad`, so the
    standardisation and the cross-correlation matrix C are those of the global batch,
    and each rank computes the same loss. The gather's backward sums the gradient that
    every rank computed for this rank's embeddings; with DDP averaging the parameter
    gradients over ranks, training matches one process holding the whole batch. C is
    computed in float32 even under autocast (its D x D sums overflow float16).

    Args:
        lambd: λ, the weight of the off-diagonal term (0.0051).
        eps: added to the variance when standardising (as BatchNorm1d's).
    """

    def __init__(self, lambd: float = 0.0051, eps: float = 1e-5) -> None:
        super().__init__()
        self.lambd, self.eps = lambd, eps

    def loss(self, z_a: Tensor, z_b: Tensor) -> Tensor:
        """z_a, z_b: (n, D) this rank's projector outputs of views a and b."""
        all_a, all_b = gather_with_grad(z_a), gather_with_grad(z_b)
        with torch.autocast(device_type=z_a.device.type, enabled=False):
            return barlow_twins_loss(all_a.float(), all_b.float(), self.lambd, self.eps)

    def extra_repr(self) -> str:
        return f'lambd={self.lambd}, eps={self.eps}'
