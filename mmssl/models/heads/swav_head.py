"""SwAV's prototypes, code assignment and swapped prediction loss."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmssl.models.losses import cross_view_cross_entropy, sinkhorn_knopp
from mmssl.registry import MODELS
from mmssl.utils.dist import get_rank, get_world_size


@MODELS.register_module()
class SwAVHead(nn.Module):
    """K L2-normalised prototypes, Sinkhorn codes and the swapped prediction loss (SwAV).

    Replaces mmpretrain's ``SwAVHead``/``SwAVLoss`` (which keep the queue inside the loss
    and all-reduce the Sinkhorn row sums only when one of them is zero): the losses are
    pure functions here, the queues are the algorithm's ``projection_queues``.

    Args:
        feat_dim: D, the projection's dimension (128).
        num_prototypes: K (3000).
        temperature: the softmax temperature of the prediction (0.1).
        epsilon: the Sinkhorn entropy regularisation (0.05).
        sinkhorn_iterations: the Sinkhorn-Knopp iterations (3).
    """

    def __init__(self,
                 feat_dim: int,
                 num_prototypes: int = 3000,
                 temperature: float = 0.1,
                 epsilon: float = 0.05,
                 sinkhorn_iterations: int = 3) -> None:
        super().__init__()
        self.prototypes = nn.Linear(feat_dim, num_prototypes, bias=False)
        self.temperature = temperature
        self.epsilon = epsilon
        self.sinkhorn_iterations = sinkhorn_iterations

    @torch.no_grad()
    def normalize_prototypes(self) -> None:
        """L2-normalise every prototype in place (before each training forward)."""
        self.prototypes.weight.copy_(F.normalize(self.prototypes.weight, dim=1))

    def forward(self, z: Tensor) -> Tensor:
        """(N, D) L2-normalised projections -> (N, K) prototype scores (cosines)."""
        return self.prototypes(z)

    @torch.no_grad()
    def codes(self, scores: Tensor, queue: Optional[Tensor] = None) -> Tensor:
        """(n, K) codes of this rank's samples, by Sinkhorn-Knopp over the global batch.

        Args:
            scores: (n, K) prototype scores of this rank's samples.
            queue: (L, D) queued projections, the same on every rank (a
                ``FIFOQueue`` of projections gathered from all ranks), or None. Their
                scores join the equipartition but get no code; each rank scores its
                equal share of the rows, so that the sums all-reduced across ranks count
                every row once, as one process holding the whole queue would.
        """
        num_samples = scores.shape[0]
        if queue is not None:
            world_size, rank = get_world_size(), get_rank()
            if queue.shape[0] % world_size:
                raise ValueError(f'a SwAV queue of {queue.shape[0]} rows cannot be shared '
                                 f'equally by {world_size} ranks')
            share = queue.shape[0] // world_size
            rows = queue[rank * share:(rank + 1) * share].to(scores.dtype)
            scores = torch.cat([self(rows), scores])
        return sinkhorn_knopp(scores, self.sinkhorn_iterations, self.epsilon)[-num_samples:]

    def loss(self, scores: Sequence[Tensor], codes: Sequence[Tensor]) -> Tensor:
        """Swapped prediction: each view's scores predict the codes of the other views.

        scores: V tensors (N, K), all views; codes: G tensors (N, K) of views 0..G-1.
        """
        return cross_view_cross_entropy(codes, scores, self.temperature)

    def extra_repr(self) -> str:
        return (f'temperature={self.temperature}, epsilon={self.epsilon}, '
                f'sinkhorn_iterations={self.sinkhorn_iterations}')
