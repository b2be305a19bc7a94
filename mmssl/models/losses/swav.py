"""SwAV's code assignment: the Sinkhorn-Knopp equipartition (Caron et al. 2020)."""
import torch
from mmengine.dist import all_reduce
from torch import Tensor

from mmssl.utils.dist import get_world_size


@torch.no_grad()
def sinkhorn_knopp(scores: Tensor, num_iters: int = 3, epsilon: float = 0.05) -> Tensor:
    """Soft codes that split the global batch equally among the prototypes.

    With ``Q = exp(scores / epsilon)^T`` (K, B) over the B rows of all ranks, alternately
    scales the rows of Q to sum to 1/K (each prototype gets an equal share) and the
    columns to 1/B (each sample one unit of mass), ``num_iters`` times, ending with the
    columns; returns ``B * Q^T``, whose rows sum to 1. The sums over samples are
    all-reduced across ranks, so every rank gets its rows of the single-process result.

    Args:
        scores: (n, K) this rank's rows (its samples, and its share of any queue) of the
            global (B, K) matrix of prototype scores; cosines (|s| <= 1), so that
            ``exp(s / epsilon)`` stays finite in float32.
        num_iters: Sinkhorn iterations (3).
        epsilon: the entropy regularisation (0.05).

    Returns:
        (n, K) float32 codes of this rank's rows, rows summing to 1.
    """
    q = torch.exp(scores.float() / epsilon).t()  # (K, n)
    num_prototypes = q.shape[0]
    num_samples = q.shape[1] * get_world_size()  # every rank holds the same n
    total = q.sum()
    all_reduce(total)
    q /= total
    for _ in range(num_iters):
        per_prototype = q.sum(dim=1, keepdim=True)
        all_reduce(per_prototype)
        q /= per_prototype * num_prototypes
        q /= q.sum(dim=0, keepdim=True) * num_samples
    return (q * num_samples).t()
