"""The patch graph of transitive invariance (Wang, He & Gupta, ICCV 2017).

Nodes are image patches, edges say "same instance" (``'intra'``: one object tracked
through a video) or "same kind" (``'inter'``: neighbours in feature space). Both kinds are
mined on the same tracked patches, so that chaining them gives what neither gives alone.

- Intra-instance edges (:func:`mine_video`): decode a video (a file, or a folder of frame
  images) with OpenCV, detect good features to track in the first frame, track them with
  pyramidal KLT and a forward-backward check, and put a fixed-size box around each tracked
  point in its first frame, every ``every`` frames and its last; the track's first patch
  (its *head*, :func:`track_heads`) is linked to each later one.
- Inter-instance edges (:func:`inter_instance_edges`) among the heads of all tracks (and
  optionally still-image patches): k-means of their (N, D) features into coarse clusters,
  each patch linked to its k nearest cosine neighbours inside its cluster (not in its own
  video, by default), and only the edges of a 4-clique of that neighbour graph kept.
- Transitive pairs (:meth:`PatchGraph.pairs`): A and B linked by an inter edge, B and B'
  by an intra edge (B' another view of B's object, later in its video): (A, B') is a
  positive, a different instance in a different viewpoint, that no single edge gives.
- :class:`PatchGraph`: the nodes (patch records) and edges, saved as JSON with the count
  of pairs of each kind (:data:`PAIR_KINDS`).

Patch records are dicts: ``source`` (the video file or frame folder, or the image file),
``frame`` (the frame index in the video, -1 for a still image), ``box`` ``[x0, y0, x1, y1]``
(pixels, x1/y1 exclusive) in that frame, ``track`` (the track id within the video, -1 for
none), ``point`` (video patches: the tracked ``[x, y]``, the box's centre unless the box was
shifted inside the frame) and, once the crops are written, ``img_path``: the crop file,
relative to the graph file's folder (what the dataset loads).
"""
import itertools
import json
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Optional, Sequence

import cv2
import numpy as np

from .image_folder import IMG_EXTENSIONS

EDGE_KINDS = ('intra', 'inter')
# The positive pairs: the two edge kinds and the inter-then-intra chains of two edges.
PAIR_KINDS = EDGE_KINDS + ('transitive', )
# The video files the miners look for (``--videos DIR``), decoded by :func:`read_video`.
VIDEO_EXTENSIONS = ('.avi', '.mp4', '.mov', '.mkv', '.webm', '.mpg')
# Version 2 mines inter edges on tracked patches and stores ``counts``; 1 still loads.
GRAPH_VERSION = 2
READABLE_VERSIONS = (1, 2)


# ----------------------------------------------------------------------------- videos
def frame_files(folder: str) -> list[str]:
    """The frame images (:data:`IMG_EXTENSIONS`) of a video stored as a folder of images,
    in name order (subfolders not searched)."""
    return [osp.join(folder, name) for name in sorted(os.listdir(folder))
            if name.lower().endswith(IMG_EXTENSIONS)
            and osp.isfile(osp.join(folder, name))]


def frame_scale(height: int, width: int, max_side: Optional[int] = None) -> float:
    """The factor :func:`read_video` resizes a (height, width) frame by (1: none)."""
    longer = max(height, width)
    return max_side / longer if max_side and longer > max_side else 1.0


def read_video(path: str, max_frames: Optional[int] = None,
               max_side: Optional[int] = None) -> list[np.ndarray]:
    """The frames of a video as (H, W, 3) uint8 BGR arrays, decoded with OpenCV.

    ``path``: a video file, or a folder of frame images (:func:`frame_files`, e.g. a
    video split into JPEGs). ``max_frames``: stop after that many frames; ``max_side``:
    downscale frames whose longer side exceeds it (:func:`frame_scale`; the boxes then
    refer to the downscaled frames).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: naming ``path``, if OpenCV cannot open it or decodes no frame.
    """
    if osp.isdir(path):
        frames = [cv2.imread(p, cv2.IMREAD_COLOR) for p in frame_files(path)[:max_frames]]
        if any(frame is None for frame in frames):
            raise ValueError(f'OpenCV cannot decode a frame image in {path}')
    elif osp.isfile(path):
        frames = []
        cap = cv2.VideoCapture(path)
        if not cap.isOpened():
            raise ValueError(f'OpenCV cannot open the video {path}')
        try:
            while max_frames is None or len(frames) < max_frames:
                ok, frame = cap.read()
                if not ok:
                    break
                frames.append(frame)
        finally:
            cap.release()
    else:
        raise FileNotFoundError(f'video file not found: {path}')
    if not frames:
        raise ValueError(f'no frame could be decoded from the video {path}')
    scale = frame_scale(*frames[0].shape[:2], max_side)
    if scale != 1.0:
        frames = [cv2.resize(f, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                  for f in frames]
    return frames


def track_points(frames: Sequence[np.ndarray], max_corners: int = 50,
                 quality: float = 0.01, min_distance: float = 16.0,
                 fb_threshold: float = 1.0, win_size: int = 15,
                 mask: Optional[np.ndarray] = None) -> tuple[np.ndarray, np.ndarray]:
    """Track good features of the first frame through all frames with KLT.

    Corners come from ``cv2.goodFeaturesToTrack`` on the first frame (inside ``mask``,
    (H, W) uint8, if given); each is tracked frame to frame with
    ``cv2.calcOpticalFlowPyrLK`` and tracked back: a point whose backward track misses
    its start by more than ``fb_threshold`` pixels (or whose status is lost) is dropped
    from that frame on.

    Returns:
        points: (T, P, 2) float32, the (x, y) of each point in each of the T frames
            (NaN once lost).
        alive: (T, P) bool, whether the point is still tracked in that frame.
    """
    grey = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) if f.ndim == 3 else f for f in frames]
    corners = cv2.goodFeaturesToTrack(grey[0], maxCorners=max_corners, qualityLevel=quality,
                                      minDistance=min_distance, mask=mask)
    num = 0 if corners is None else len(corners)
    points = np.full((len(grey), num, 2), np.nan, np.float32)
    alive = np.zeros((len(grey), num), bool)
    if num == 0:
        return points, alive
    points[0] = corners.reshape(-1, 2)
    alive[0] = True
    lk = dict(winSize=(win_size, win_size), maxLevel=3,
              criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01))
    for t in range(1, len(grey)):
        idx = np.flatnonzero(alive[t - 1])
        if idx.size == 0:
            break
        p0 = points[t - 1, idx].reshape(-1, 1, 2)
        p1, st1, _ = cv2.calcOpticalFlowPyrLK(grey[t - 1], grey[t], p0, None, **lk)
        back, st0, _ = cv2.calcOpticalFlowPyrLK(grey[t], grey[t - 1], p1, None, **lk)
        error = np.linalg.norm((back - p0).reshape(-1, 2), axis=1)
        ok = (st1.ravel() == 1) & (st0.ravel() == 1) & (error < fb_threshold)
        points[t, idx[ok]] = p1.reshape(-1, 2)[ok]
        alive[t, idx[ok]] = True
    return points, alive


def box_around(x: float, y: float, size: int, width: int, height: int) -> list[int]:
    """``[x0, y0, x1, y1]``: a size x size box centred on (x, y), shifted inside the frame."""
    x0 = int(round(x - size / 2))
    y0 = int(round(y - size / 2))
    x0 = min(max(x0, 0), max(width - size, 0))
    y0 = min(max(y0, 0), max(height - size, 0))
    return [x0, y0, min(x0 + size, width), min(y0 + size, height)]


def crop(image: np.ndarray, box: Sequence[int]) -> np.ndarray:
    """The (y1 - y0, x1 - x0, C) pixels of ``box`` = ``[x0, y0, x1, y1]``, copied."""
    x0, y0, x1, y1 = box
    return image[y0:y1, x0:x1].copy()


def mine_video(path: str, patch_size: int = 64, every: Optional[int] = None,
               min_length: int = 2, min_motion: float = 0.0, max_frames: Optional[int] = None,
               max_side: Optional[int] = None, **track_kwargs
               ) -> tuple[list[dict], list[np.ndarray], list[tuple[int, int]]]:
    """Intra-instance patches and edges of one video (a file or a folder of frames).

    Points are tracked with :func:`track_points` (``track_kwargs``); a track is kept if it
    lives for at least ``min_length`` frames from the first and moves by at least
    ``min_motion`` pixels between its first and last frame (the paper keeps moving
    objects). Each kept track gives a ``patch_size`` box around its point in frame 0,
    every ``every``-th frame (``None``: none in between) and its last frame; the first
    patch is linked to each later one.

    Returns:
        records: the patch records (``source`` = ``path``, ``frame``, ``box``, ``track``,
            ``point``), each track's in frame order;
        crops: their (patch_size, patch_size, 3) uint8 BGR pixels, in the same order;
        edges: (i, j) pairs of indices into ``records``, i the track's first patch.
    """
    frames = read_video(path, max_frames=max_frames, max_side=max_side)
    height, width = frames[0].shape[:2]
    if patch_size > min(height, width):
        raise ValueError(f'patch_size {patch_size} exceeds the frames ({width} x {height}) '
                         f'of {path}')
    points, alive = track_points(frames, **track_kwargs)
    records, crops, edges = [], [], []
    for track in range(points.shape[1]):
        lived = np.flatnonzero(alive[:, track])
        last = int(lived[-1]) if lived.size else -1
        if last + 1 < max(min_length, 2):
            continue
        motion = float(np.linalg.norm(points[last, track] - points[0, track]))
        if motion < min_motion:
            continue
        steps = list(range(0, last, every)) if every else [0]
        first = len(records)
        for t in steps + [last]:
            x, y = (float(v) for v in points[t, track])
            box = box_around(x, y, patch_size, width, height)
            records.append(dict(source=path, frame=t, box=box, track=track, point=[x, y]))
            crops.append(crop(frames[t], box))
        edges += [(first, j) for j in range(first + 1, len(records))]
    return records, crops, edges


def track_heads(records: Sequence[dict]) -> list[int]:
    """Indices of the first patch of each video track in ``records`` (the patch of the
    earliest ``frame`` per (``source``, ``track``)), in record order; still-image patches
    (``frame`` -1) are none."""
    first: dict[tuple, int] = {}
    for num, record in enumerate(records):
        if record.get('frame', -1) < 0:
            continue
        key = (record['source'], record['track'])
        if key not in first or record['frame'] < records[first[key]]['frame']:
            first[key] = num
    return sorted(first.values())


# ----------------------------------------------------------------------------- images
def grid_patch_boxes(width: int, height: int, size: int,
                     stride: Optional[int] = None) -> list[list[int]]:
    """``[x0, y0, x1, y1]`` boxes of a size x size grid with ``stride`` (default: size)."""
    stride = stride or size
    return [[x, y, x + size, y + size] for y in range(0, height - size + 1, stride)
            for x in range(0, width - size + 1, stride)]


def image_patches(paths: Sequence[str], patch_size: int = 64, stride: Optional[int] = None
                  ) -> tuple[list[dict], list[np.ndarray]]:
    """Grid patches of still images: their records (``frame`` -1) and crops (BGR uint8).

    Raises:
        ValueError: naming the file, if OpenCV cannot decode it.
    """
    records, crops = [], []
    for path in paths:
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f'OpenCV cannot decode the image {path}')
        for box in grid_patch_boxes(image.shape[1], image.shape[0], patch_size, stride):
            records.append(dict(source=path, frame=-1, box=box, track=-1))
            crops.append(crop(image, box))
    return records, crops


def raw_pixel_features(crops: Sequence[np.ndarray], size: int = 16) -> np.ndarray:
    """(N, 3 * size * size) float32: each crop resized to size x size, mean-subtracted and
    L2-normalised (a stand-in for learnt features in demos and tests)."""
    feats = np.stack([cv2.resize(c, (size, size), interpolation=cv2.INTER_AREA).reshape(-1)
                      for c in crops]).astype(np.float32)
    feats -= feats.mean(axis=1, keepdims=True)
    return feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-8)


# ------------------------------------------------------------------ inter-instance edges
def _sq_dist(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """(N, K) squared L2 distances between rows of x (N, D) and centroids (K, D)."""
    return np.maximum((x ** 2).sum(1)[:, None] - 2 * x @ centroids.T
                      + (centroids ** 2).sum(1)[None], 0)


def kmeans(x: np.ndarray, k: int, iters: int = 30, seed: int = 0,
           chunk: int = 65536) -> np.ndarray:
    """(N,) int64 cluster labels of Lloyd's k-means on the rows of x (N, D).

    k-means++ seeding; an emptied cluster is re-seeded on a random row; distances are
    computed ``chunk`` rows at a time. Coarse clusters are all the mining needs.
    """
    x = np.asarray(x, np.float64)
    if not 1 <= k <= len(x):
        raise ValueError(f'k-means with k={k} needs 1 <= k <= the {len(x)} rows')
    rng = np.random.default_rng(seed)
    centroids = np.empty((k, x.shape[1]))
    centroids[0] = x[rng.integers(len(x))]
    closest = _sq_dist(x, centroids[:1])[:, 0]
    for c in range(1, k):  # k-means++: the next seed with probability ~ squared distance
        total = closest.sum()
        pick = rng.choice(len(x), p=closest / total) if total > 0 else rng.integers(len(x))
        centroids[c] = x[pick]
        closest = np.minimum(closest, _sq_dist(x, centroids[c:c + 1])[:, 0])
    labels = np.full(len(x), -1, np.int64)
    for _ in range(iters):
        new = np.concatenate([_sq_dist(part, centroids).argmin(1)
                              for part in np.array_split(x, max(1, -(-len(x) // chunk)))])
        if np.array_equal(new, labels):
            break
        labels = new
        for c in range(k):
            members = labels == c
            centroids[c] = x[members].mean(0) if members.any() else x[rng.integers(len(x))]
    return labels


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

    k-means into ``num_clusters`` coarse clusters (:func:`kmeans`), the cosine
    ``num_neighbours``-NN graph inside each cluster, neighbours outside a patch's own
    ``groups`` entry ((N,) or None: :func:`knn_within_clusters`), and the edges of its
    4-cliques (:func:`four_clique_edges`): every member of a kept clique is among the
    nearest neighbours of, or has among its own, each of the other three.
    """
    clusters = kmeans(feats, num_clusters, seed=seed)
    return four_clique_edges(knn_within_clusters(feats, clusters, num_neighbours, groups))


# ------------------------------------------------------------------------------- graph
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
