"""The counting loss of Noroozi, Pirsiavash & Favaro (ICCV 2017)."""
import torch
from torch import Tensor


def counting_loss(down: Tensor, tiles: Tensor, down_other: Tensor,
                  margin: float = 10.0) -> Tensor:
    """Mean over the batch of ``|d - Σ_j t_j|² + max(0, M - |d' - Σ_j t_j|²)``.

    down: (N, K) counts φ(D∘x) of the downsampled images; tiles: (N, T, K) counts
    φ(T_j∘x) of their T tiles; down_other: (N, K) counts φ(D∘y) of other images y (the
    contrastive term, which rules out the trivial φ = 0: it then costs ``margin`` per
    image). ``|.|²`` is the squared Euclidean norm. Returns a scalar.
    """
    if tiles.ndim != 3 or down.shape != down_other.shape or tiles[:, 0].shape != down.shape:
        raise ValueError(f'expected down/down_other (N, K) and tiles (N, T, K), got '
                         f'{tuple(down.shape)}, {tuple(down_other.shape)}, '
                         f'{tuple(tiles.shape)}')
    total = tiles.sum(dim=1)
    positive = (down - total).pow(2).sum(dim=1)
    negative = torch.clamp(margin - (down_other - total).pow(2).sum(dim=1), min=0)
    return (positive + negative).mean()
