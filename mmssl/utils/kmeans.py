"""Lloyd's k-means in torch: the k-means tokenizer's codebook and the miners' clusters."""
from typing import Optional

import torch
from torch import Tensor

from .progress import progress_bar

KMEANS_INITS = ('random', 'kmeans++')


def squared_distances(x: Tensor, centroids: Tensor) -> Tensor:
    """(M, K) squared L2 distances between the rows of x (M, D) and centroids (K, D)."""
    return (x.pow(2).sum(1, keepdim=True) - 2 * x @ centroids.t()
            + centroids.pow(2).sum(1)[None]).clamp_(min=0)


def nearest_centroid(x: Tensor, centroids: Tensor) -> Tensor:
    """(M,) long: the index of the nearest of the (K, D) centroids (L2) for each (M, D) row."""
    return squared_distances(x, centroids).argmin(dim=1)


def _random_rows(x: Tensor, count: int, generator: Optional[torch.Generator]) -> Tensor:
    """(count,) long indices of rows of x, drawn on the CPU (``generator``'s device)."""
    return torch.randint(x.shape[0], (count, ), generator=generator).to(x.device)


def _kmeans_plus_plus(x: Tensor, k: int, generator: Optional[torch.Generator]) -> Tensor:
    """(k, D) seeds: a random row, then each next row drawn with probability proportional
    to its squared distance to the nearest seed so far (Arthur & Vassilvitskii, 2007)."""
    centroids = x.new_empty(k, x.shape[1])
    centroids[0] = x[_random_rows(x, 1, generator)]
    closest = squared_distances(x, centroids[:1])[:, 0]
    for c in range(1, k):
        total = float(closest.sum())
        if total > 0:
            pick = torch.multinomial(closest.cpu() / total, 1, generator=generator).to(x.device)
        else:  # every row is on a seed already
            pick = _random_rows(x, 1, generator)
        centroids[c] = x[pick]
        closest = torch.minimum(closest, squared_distances(x, centroids[c:c + 1])[:, 0])
    return centroids


def kmeans(x: Tensor, k: int, iters: int = 20, chunk: int = 65536,
           generator: Optional[torch.Generator] = None, init: str = 'random',
           progress: bool = False) -> Tensor:
    """Lloyd's k-means of the rows of x (M, D); returns the (k, D) float32 centroids.

    ``init``: ``'random'``, k distinct random rows (cheap for a large k, as a tokenizer's
    codebook), or ``'kmeans++'`` (k passes over x; better clusters for a small k, as the
    miners' coarse clusters). A centroid left without rows is re-seeded on a random row.
    Assignment runs in chunks of ``chunk`` rows to bound memory; ``generator`` (on the CPU)
    makes the result reproducible; ``progress`` draws a bar over the rounds.
    """
    if not 1 <= k <= x.shape[0]:
        raise ValueError(f'k-means with k={k} needs 1 <= k <= the {x.shape[0]} rows')
    if init not in KMEANS_INITS:
        raise ValueError(f'k-means init must be one of {KMEANS_INITS}, got {init!r}')
    x = x.float()
    if init == 'kmeans++':
        centroids = _kmeans_plus_plus(x, k, generator)
    else:
        perm = torch.randperm(x.shape[0], generator=generator, device='cpu').to(x.device)
        centroids = x[perm[:k]].clone()
    for _ in progress_bar(range(iters), 'k-means', unit='round', enabled=progress):
        assign = torch.cat([nearest_centroid(part, centroids) for part in x.split(chunk)])
        sums = torch.zeros_like(centroids).index_add_(0, assign, x)
        counts = torch.bincount(assign, minlength=k).to(x.dtype)
        empty = counts == 0
        centroids = sums / counts.clamp(min=1)[:, None]
        if bool(empty.any()):
            centroids[empty] = x[_random_rows(x, int(empty.sum()), generator)]
    return centroids
