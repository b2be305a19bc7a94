from typing import Optional

import torch
from torch import Tensor


def nearest_centroid(x: Tensor, centroids: Tensor) -> Tensor:
    """(M,) long: the index of the nearest of the (K, D) centroids (L2) for each (M, D) row."""
    dist = (x.pow(2).sum(1, keepdim=True) - 2 * x @ centroids.t()
            + centroids.pow(2).sum(1)[None])
    return dist.argmin(dim=1)


def kmeans(x: Tensor, k: int, iters: int = 20, chunk: int = 65536,
           generator: Optional[torch.Generator] = None) -> Tensor:
    """Lloyd's k-means of the rows of x (M, D); returns the (k, D) centroids.

    Initialised with k distinct random rows; a centroid left without rows is re-seeded on
    a random row. Assignment runs in chunks of ``chunk`` rows to bound memory.
    """
    if x.shape[0] < k:
        raise ValueError(f'k-means with k={k} needs at least k rows, got {x.shape[0]}')
    x = x.float()
    perm = torch.randperm(x.shape[0], generator=generator, device='cpu').to(x.device)
    centroids = x[perm[:k]].clone()
    for _ in range(iters):
        assign = torch.cat([nearest_centroid(part, centroids) for part in x.split(chunk)])
        sums = torch.zeros_like(centroids).index_add_(0, assign, x)
        counts = torch.bincount(assign, minlength=k).to(x.dtype)
        empty = counts == 0
        centroids = sums / counts.clamp(min=1)[:, None]
        if bool(empty.any()):
            pick = torch.randint(x.shape[0], (int(empty.sum()),), generator=generator)
            centroids[empty] = x[pick.to(x.device)]
    return centroids
