"""Cosine regression losses between predictions and targets (BYOL, SimSiam), as pure
functions of tensors (docs/contributing.md, convention 5)."""
import torch.nn.functional as F
from torch import Tensor


def negative_cosine_similarity(pred: Tensor, target: Tensor) -> Tensor:
    """SimSiam's ``D(p, z) = -cos(p, z)``, averaged over the batch.

    Args:
        pred, target: (N, D), any norm (both are L2-normalised here).

    Returns:
        Scalar in [-1, 1]. No stop-gradient is applied: detach ``target`` before.
    """
    return -(F.normalize(pred, dim=1) * F.normalize(target, dim=1)).sum(dim=1).mean()


def normalized_l2(pred: Tensor, target: Tensor) -> Tensor:
    """BYOL's ``||p/|p| - z/|z| ||^2 = 2 - 2 cos(p, z)``, averaged over the batch.

    Args:
        pred, target: (N, D), any norm.

    Returns:
        Scalar in [0, 4]. No stop-gradient is applied: detach ``target`` before.
    """
    return 2 + 2 * negative_cosine_similarity(pred, target)
