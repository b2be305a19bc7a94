"""Inter-instance edges: patches of different objects of the same kind (Wang, He & Gupta,
ICCV 2017).

Among N patches with (N, D) features (the tracks' heads, optionally still-image patches):
k-means into coarse clusters, each patch linked to its k nearest cosine neighbours inside
its cluster (not in its own video, by default), and only the edges of a 4-clique of that
neighbour graph kept.
"""
import itertools
from typing import Optional, Sequence

import numpy as np
import torch

from mmssl.utils.kmeans import kmeans, nearest_centroid


def cluster_labels(feats: np.ndarray, num_clusters: int, seed: int = 0,
                   iters: int = 30) -> np.ndarray:
    """(N,) int64 k-means cluster of each row of feats (N, D): k-means++ seeding, then
    ``iters`` Lloyd steps (:func:`mmssl.utils.kmeans.kmeans`, reproducible by ``seed``)."""
    x = torch.from_numpy(np.ascontiguousarray(feats, np.float32))
    centroids = kmeans(x, num_clusters, iters, init='kmeans++',
                       generator=torch.Generator().manual_seed(seed))
    return nearest_centroid(x, centroids).numpy().astype(np.int64)


def knn_within_clusters(feats: np.ndarray, clusters: np.ndarray, num_neighbours: int,
                        groups: Optional[np.ndarray] = None) -> list[set[int]]:
    """The mutual neighbour graph: i and j are linked when each is among the other's
    ``num_neighbours`` nearest (cosine) patches of the same cluster.

    feats: (N, D); clusters: (N,); groups: (N,) or None: a patch's neighbours are only
    looked for outside its group (e.g. the video it was tracked in). Returns N sets of
    neighbour indices.
    """
    feats = np.asarray(feats, np.float64)
    feats = feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)
    adj: list[set[int]] = [set() for _ in range(len(feats))]
    for c in np.unique(clusters):
        members = np.flatnonzero(clusters == c)
        if len(members) < 2:
            continue
        sim = feats[members] @ feats[members].T
        np.fill_diagonal(sim, -np.inf)
        if groups is not None:
            own = np.asarray(groups)[members]
            sim[own[:, None] == own[None]] = -np.inf
        k = min(num_neighbours, len(members) - 1)
        nearest = np.argsort(-sim, axis=1, kind='stable')[:, :k]
        chosen = np.zeros(sim.shape, bool)  # chosen[r, c]: c is among r's nearest
        np.put_along_axis(chosen, nearest, np.take_along_axis(np.isfinite(sim), nearest, 1),
                          axis=1)
        for row, col in zip(*np.nonzero(chosen & chosen.T)):
            adj[int(members[row])].add(int(members[col]))
    return adj


def four_clique_edges(adj: Sequence[set[int]]) -> list[tuple[int, int]]:
    """The edges (i < j) of ``adj`` that lie in a 4-clique (four mutually linked nodes).

    Edge (i, j) is kept when two common neighbours u, v of i and j are linked to each
    other.
    """
    kept = []
    for i, neighbours in enumerate(adj):
        for j in sorted(n for n in neighbours if n > i):
            common = sorted(adj[i] & adj[j])
            if any(v in adj[u] for u, v in itertools.combinations(common, 2)):
                kept.append((i, j))
    return kept


def inter_instance_edges(feats: np.ndarray, num_clusters: int, num_neighbours: int = 10,
                         seed: int = 0, groups: Optional[np.ndarray] = None
                         ) -> list[tuple[int, int]]:
    """Inter-instance edges (i < j) among N patches with (N, D) features.

    k-means into ``num_clusters`` coarse clusters (:func:`cluster_labels`), the cosine
    ``num_neighbours``-NN graph inside each cluster, neighbours outside a patch's own
    ``groups`` entry ((N,) or None: :func:`knn_within_clusters`), and the edges of its
    4-cliques (:func:`four_clique_edges`): every member of a kept clique is among the
    nearest neighbours of, or has among its own, each of the other three.
    """
    clusters = cluster_labels(feats, num_clusters, seed)
    return four_clique_edges(knn_within_clusters(feats, clusters, num_neighbours, groups))
