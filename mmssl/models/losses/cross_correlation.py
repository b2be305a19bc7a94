"""Barlow Twins' cross-correlation (redundancy-reduction) loss, a pure function of tensors
(docs/contributing.md, convention 5)."""
import torch
from torch import Tensor


def standardize(z: Tensor, eps: float = 1e-5) -> Tensor:
    """(N, D) each feature standardised over the batch: ``(z - mean) / sqrt(var + eps)``.

    The biased variance, as ``BatchNorm1d(affine=False)`` in training mode computes it
    (the official Barlow Twins code standardises with that layer).
    """
    mean = z.mean(dim=0, keepdim=True)
    var = z.var(dim=0, unbiased=False, keepdim=True)
    return (z - mean) / torch.sqrt(var + eps)


def cross_correlation(z_a: Tensor, z_b: Tensor, eps: float = 1e-5) -> Tensor:
    """(D, D) ``C_ij = sum_n za_ni zb_nj / N`` of the batch-standardised embeddings.

    Args:
        z_a, z_b: (N, D) embeddings of two views of the same N images.
    """
    return standardize(z_a, eps).t() @ standardize(z_b, eps) / z_a.shape[0]


def off_diagonal(matrix: Tensor) -> Tensor:
    """The D * (D - 1) off-diagonal entries of a square (D, D) matrix, flattened."""
    d = matrix.shape[0]
    return matrix.flatten()[:-1].view(d - 1, d + 1)[:, 1:].flatten()


def barlow_twins_loss(z_a: Tensor, z_b: Tensor, lambd: float = 0.0051,
                      eps: float = 1e-5) -> Tensor:
    """``sum_i (1 - C_ii)^2 + lambd * sum_{i != j} C_ij^2`` (Zbontar et al. 2021).

    Args:
        z_a, z_b: (N, D) projector outputs of two views of the whole (global) batch: the
            standardisation and C are statistics of the batch, so in distributed training
            gather them from every rank first (:class:`BarlowTwinsHead` does).
        lambd: the weight of the redundancy-reduction term (0.0051).
        eps: added to the variance when standardising.

    Returns:
        Scalar, summed over the D x D entries of C (not averaged).
    """
    if z_a.shape != z_b.shape or z_a.ndim != 2:
        raise ValueError(f'Barlow Twins needs two (N, D) embeddings of the same shape, got '
                         f'{tuple(z_a.shape)} and {tuple(z_b.shape)}')
    c = cross_correlation(z_a, z_b, eps)
    on_diag = (torch.diagonal(c) - 1).pow(2).sum()
    return on_diag + lambd * off_diagonal(c).pow(2).sum()
