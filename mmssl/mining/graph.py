"""The patch graph of transitive invariance (Wang, He & Gupta, ICCV 2017).

Nodes are image patches (records of :mod:`mmssl.mining.tracking` and
:mod:`mmssl.mining.patches`, plus ``img_path``: the crop file, relative to the graph
file's folder, which the dataset loads); edges say "same instance" (``'intra'``: one
object tracked through a video) or "same kind" (``'inter'``: neighbours in feature
space, :mod:`mmssl.mining.inter_edges`). Both kinds are mined on the same tracked
patches, so that chaining them gives what neither gives alone: A and B linked by an inter
edge, B and B' by an intra edge (B' another view of B's object, later in its video) make
(A, B') a positive, a different instance in a different viewpoint (:meth:`PatchGraph.pairs`).

:class:`PatchGraph` is saved as JSON with the count of pairs of each kind
(:data:`PAIR_KINDS`); ``TransitiveTripletDataset`` reads it.
"""
import json
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Sequence

import cv2
import numpy as np

EDGE_KINDS = ('intra', 'inter')
# The positive pairs: the two edge kinds and the inter-then-intra chains of two edges.
PAIR_KINDS = EDGE_KINDS + ('transitive', )
# Version 2 mines inter edges on tracked patches and stores ``counts``; 1 still loads.
GRAPH_VERSION = 2
READABLE_VERSIONS = (1, 2)


def connected_components(num_nodes: int, edges: Sequence[Sequence[int]]) -> np.ndarray:
    """(num_nodes,) int64 component labels 0..C-1 (union-find; in order of first node)."""
    parent = np.arange(num_nodes)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in ((int(e[0]), int(e[1])) for e in edges):
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    roots = np.array([root(i) for i in range(num_nodes)], np.int64)
    _, labels = np.unique(roots, return_inverse=True)
    return labels.astype(np.int64)


@dataclass
class PatchGraph:
    """Patch records and typed edges; saved as JSON.

    File format (``version`` 2; version 1 files, without ``counts``, load too)::

        {"version": 2,
         "nodes": [{"img_path": "patches/0000000.jpg", "source": "videos/a.avi",
                    "frame": 12, "box": [x0, y0, x1, y1], "track": 3,
                    "point": [x, y]}, ...],
         "edges": [[i, j, "intra"], [k, l, "inter"], ...],
         "counts": {"intra": 120, "inter": 38, "transitive": 76}}

    ``img_path`` is relative to the JSON file's folder (absolute paths are kept as
    they are); ``source`` is as the miner was given it; ``counts`` (:meth:`pair_counts`)
    is written for reading, and recomputed from the edges on load.
    """

    nodes: list[dict] = field(default_factory=list)
    edges: list[tuple[int, int, str]] = field(default_factory=list)

    def add(self, records: Sequence[dict], edges: Sequence[tuple[int, int]],
            kind: str) -> int:
        """Append ``records`` and their ``edges`` (indices into ``records``) of ``kind``;
        returns the index of the first new node."""
        offset = len(self.nodes)
        for i, j in edges:
            if not (0 <= i < len(records) and 0 <= j < len(records)) or i == j:
                raise ValueError(f'edge ({i}, {j}) is not between two of the '
                                 f'{len(records)} records')
        self._check_kind(kind)
        self.nodes += [dict(r) for r in records]
        self.link([(offset + int(i), offset + int(j)) for i, j in edges], kind)
        return offset

    def link(self, edges: Sequence[tuple[int, int]], kind: str) -> None:
        """Add ``edges`` of ``kind`` between existing nodes (graph indices)."""
        self._check_kind(kind)
        for i, j in edges:
            if not (0 <= i < len(self.nodes) and 0 <= j < len(self.nodes)) or i == j:
                raise ValueError(f'edge ({i}, {j}) is not between two of the '
                                 f'{len(self.nodes)} nodes')
            self.edges.append((int(i), int(j), kind))

    @staticmethod
    def _check_kind(kind: str) -> None:
        if kind not in EDGE_KINDS:
            raise ValueError(f'edge kind must be one of {EDGE_KINDS}, got {kind!r}')

    def neighbours(self, kind: str) -> list[set[int]]:
        """For each node, the nodes it shares an edge of ``kind`` with."""
        self._check_kind(kind)
        adj: list[set[int]] = [set() for _ in self.nodes]
        for i, j, edge_kind in self.edges:
            if edge_kind == kind:
                adj[i].add(j)
                adj[j].add(i)
        return adj

    def pairs(self, kind: str) -> list[tuple[int, int]]:
        """The positive pairs (i < j, sorted, no repeats) of ``kind`` in :data:`PAIR_KINDS`.

        ``'intra'`` / ``'inter'``: the edges of that kind. ``'transitive'``: (A, B') where
        A-B is an inter edge and B-B' an intra edge, A != B' and A-B' not an edge of
        either kind: another instance (B's object) in another view (B's tracked patch
        B'), reached through one edge of each kind.
        """
        if kind not in PAIR_KINDS:
            raise ValueError(f'pair kind must be one of {PAIR_KINDS}, got {kind!r}')
        if kind != 'transitive':
            return sorted({(min(i, j), max(i, j)) for i, j, k in self.edges if k == kind})
        intra, inter = self.neighbours('intra'), self.neighbours('inter')
        found = set()
        for a, linked in enumerate(inter):
            direct = intra[a] | linked | {a}
            for b in linked:
                found.update((min(a, c), max(a, c)) for c in intra[b] - direct)
        return sorted(found)

    def pair_counts(self) -> dict[str, int]:
        """The number of positive pairs of each kind in :data:`PAIR_KINDS`."""
        return {kind: len(self.pairs(kind)) for kind in PAIR_KINDS}

    def components(self) -> np.ndarray:
        """(N,) the connected component of each node (both edge kinds)."""
        return connected_components(len(self.nodes), [e[:2] for e in self.edges])

    def reachable(self, node: int) -> np.ndarray:
        """The other nodes connected to ``node`` directly or transitively, sorted."""
        labels = self.components()
        others = np.flatnonzero(labels == labels[node])
        return others[others != node]

    def save(self, path: str) -> None:
        """Write the graph as JSON (see the class docstring)."""
        folder = osp.dirname(osp.abspath(path))
        os.makedirs(folder, exist_ok=True)
        data = dict(version=GRAPH_VERSION, nodes=self.nodes,
                    edges=[[int(i), int(j), kind] for i, j, kind in self.edges],
                    counts=self.pair_counts())
        tmp = f'{path}.tmp'
        with open(tmp, 'w') as f:
            json.dump(data, f)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str) -> 'PatchGraph':
        """Read a graph written by :meth:`save`.

        Raises:
            FileNotFoundError: naming ``path`` and the tool that writes it.
            ValueError: naming ``path``, for a wrong version, a node without ``img_path``
                or an edge that is malformed or out of range.
        """
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'patch graph {path} not found; mine one with `python tools/dataset_'
                f'converters/mine_transitive_graph.py --videos DIR --images DIR --out {path}`')
        try:
            with open(path) as f:
                data = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'{path} is not valid JSON: {err}') from err
        if not isinstance(data, dict) or data.get('version') not in READABLE_VERSIONS:
            raise ValueError(f'{path}: expected a patch graph of version '
                             f'{" or ".join(map(str, READABLE_VERSIONS))}')
        nodes = data.get('nodes', [])
        for num, node in enumerate(nodes):
            if not isinstance(node, dict) or 'img_path' not in node:
                raise ValueError(f'{path}: node {num} has no img_path')
        edges = []
        for num, edge in enumerate(data.get('edges', [])):
            ok = (isinstance(edge, list) and len(edge) == 3 and edge[2] in EDGE_KINDS
                  and all(isinstance(v, int) and 0 <= v < len(nodes) for v in edge[:2]))
            if not ok:
                raise ValueError(f'{path}: edge {num} {edge!r} is not [i, j, kind] with '
                                 f'i, j < {len(nodes)} and kind in {EDGE_KINDS}')
            edges.append((edge[0], edge[1], edge[2]))
        return cls(nodes=nodes, edges=edges)

    def write_crops(self, crops: Sequence[np.ndarray], folder: str, graph_file: str,
                    first: int = 0, ext: str = '.jpg') -> None:
        """Write ``crops`` (BGR uint8) of nodes ``first, first + 1, ...`` as image files
        in ``folder`` and set those nodes' ``img_path`` (relative to ``graph_file``'s
        folder).

        Raises:
            OSError: naming the file OpenCV could not write.
        """
        os.makedirs(folder, exist_ok=True)
        root = osp.dirname(osp.abspath(graph_file))
        for offset, pixels in enumerate(crops):
            node = first + offset
            path = osp.join(folder, f'{node:07d}{ext}')
            if not cv2.imwrite(path, pixels):
                raise OSError(f'could not write the patch crop {path}')
            self.nodes[node]['img_path'] = osp.relpath(osp.abspath(path), root)
