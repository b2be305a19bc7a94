"""The transitive-invariance patch graph: KLT tracks, 4-clique mining, transitive pairs."""
import os.path as osp

import cv2
import numpy as np
import pytest

from mmssl.datasets import TransitiveTripletDataset, read_idx
from mmssl.datasets.transitive_graph import (PatchGraph, connected_components,
                                             four_clique_edges, inter_instance_edges,
                                             mine_video, track_points)

STEP = np.array([2.0, 1.0])  # the object's displacement per frame (x, y)
FRAMES = 20
START = np.array([20, 24])  # the object's top-left corner in frame 0


def fmnist_texture(root: str, side: int = 56) -> np.ndarray:
    """(side, side, 3) uint8: four Fashion-MNIST test images tiled 2 x 2, upscaled."""
    images = read_idx(osp.join(root, 't10k-images-idx3-ubyte.gz'))[:4]
    tiled = np.block([[images[0], images[1]], [images[2], images[3]]])
    tiled = cv2.resize(tiled, (side, side), interpolation=cv2.INTER_LINEAR)
    return np.repeat(tiled[..., None], 3, axis=2)


def write_moving_video(path: str, texture: np.ndarray, size=(160, 120)) -> str:
    """An MJPG video: ``texture`` moving by STEP per frame over a flat grey background."""
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), 10, size)
    assert writer.isOpened()
    h, w = texture.shape[:2]
    for t in range(FRAMES):
        frame = np.full((size[1], size[0], 3), 90, np.uint8)
        x, y = (START + t * STEP).astype(int)
        frame[y:y + h, x:x + w] = texture
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope='module')
def video(tmp_path_factory, fashion_mnist_root):
    folder = tmp_path_factory.mktemp('videos')
    return write_moving_video(str(folder / 'moving.avi'), fmnist_texture(fashion_mnist_root))


def test_klt_tracks_follow_the_object(video):
    frames = [cv2.VideoCapture(video).read()[1]]
    assert frames[0] is not None
    records, crops, edges = mine_video(video, patch_size=32, every=5, max_corners=20,
                                       min_distance=6)
    tracks = sorted({r['track'] for r in records})
    assert len(tracks) >= 3
    total = (FRAMES - 1) * STEP
    for track in tracks:
        nodes = [i for i, r in enumerate(records) if r['track'] == track]
        assert [records[i]['frame'] for i in nodes] == [0, 5, 10, 15, 19]
        first, last = (np.array(records[i]['box'], float) for i in (nodes[0], nodes[-1]))
        # the last box is the first one moved by the object's displacement
        assert np.abs(last[:2] - first[:2] - total).max() <= 2.0, (first, last)
        # intra edges: the first patch of the track to each later one
        assert sorted(e for e in edges if e[0] in nodes) == [(nodes[0], j) for j in nodes[1:]]
    assert len(edges) == 4 * len(tracks)
    assert all(c.shape == (32, 32, 3) for c in crops)


def test_points_on_the_static_background_are_not_found(video):
    cap = cv2.VideoCapture(video)
    frames = [cap.read()[1] for _ in range(FRAMES)]
    points, alive = track_points(frames, max_corners=20, min_distance=6)
    assert alive[-1].all()  # the texture stays in view: every forward-backward check passes
    start = points[0]
    h = w = 56
    inside = ((start >= START - 2) & (start <= START + [w + 2, h + 2])).all(axis=1)
    assert inside.all()  # corners only on the moving object, none on the flat background
    np.testing.assert_allclose(points[-1] - points[0], np.tile((FRAMES - 1) * STEP,
                                                               (len(start), 1)), atol=1.0)


def test_four_cliques_kept_chains_and_triangles_dropped():
    # K4 {0, 1, 2, 3}; chain 3-4-5-6; triangle {7, 8, 9}
    pairs = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3), (3, 4), (4, 5), (5, 6),
             (7, 8), (8, 9), (7, 9)]
    adj = [set() for _ in range(10)]
    for i, j in pairs:
        adj[i].add(j)
        adj[j].add(i)
    assert four_clique_edges(adj) == pairs[:6]


def test_inter_instance_edges_on_known_clusters():
    rng = np.random.default_rng(0)
    dim = 8
    feats, expected = [], []
    # three clusters around orthogonal directions: 4, 4 and 3 patches
    for axis, count in ((0, 4), (3, 4), (6, 3)):
        first = len(feats)
        for _ in range(count):
            v = np.zeros(dim)
            v[axis] = 1.0
            feats.append(v + 0.05 * rng.standard_normal(dim))
        if count == 4:  # k = 3 neighbours link all 4 patches: a 4-clique
            expected += [(i, j) for i in range(first, first + 4)
                         for j in range(i + 1, first + 4)]
    edges = inter_instance_edges(np.array(feats), num_clusters=3, num_neighbours=3)
    assert edges == expected  # the triangle (patches 8-10) is in no 4-clique: dropped


def test_components_and_transitive_reachability():
    graph = PatchGraph()
    records = [dict(source='x', frame=-1, box=[0, 0, 4, 4], track=-1) for _ in range(5)]
    graph.add(records[:3], [(0, 1), (1, 2)], 'intra')  # A-B, B-C
    graph.add(records[3:], [(0, 1)], 'inter')  # D-E
    np.testing.assert_array_equal(graph.components(), [0, 0, 0, 1, 1])
    assert graph.reachable(0).tolist() == [1, 2]  # A reaches C through B
    assert connected_components(3, []).tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match='kind'):
        graph.add(records[:2], [(0, 1)], 'other')


def _triplet_graph(tmp_path) -> str:
    """Nodes A, B, C (A-B, B-C) and D, E (D-E), each a small PNG of its own grey level."""
    graph = PatchGraph()
    records = [dict(source=f'img{i}.png', frame=-1, box=[0, 0, 8, 8], track=-1)
               for i in range(5)]
    graph.add(records, [(0, 1), (1, 2), (3, 4)], 'inter')
    crops = [np.full((8, 8, 3), 40 * i, np.uint8) for i in range(5)]
    path = str(tmp_path / 'graph.json')
    graph.write_crops(crops, str(tmp_path / 'patches'), path, ext='.png')
    graph.save(path)
    return path


def test_dataset_transitive_positives_and_negatives(tmp_path):
    path = _triplet_graph(tmp_path)
    dataset = TransitiveTripletDataset(
        graph_file=path, view_pipeline=[dict(type='LoadImageFromFile')],
        pipeline=[dict(type='PackInputs')])
    assert len(dataset) == 5
    np.random.seed(0)
    positives = {dataset.sample_positive(0) for _ in range(50)}
    assert positives == {1, 2}  # C is a positive of A, reached through B
    negatives = {dataset.sample_negative(0) for _ in range(50)}
    assert negatives == {3, 4}
    assert {dataset.sample_negative(3) for _ in range(50)} == {0, 1, 2}
    for idx in range(len(dataset)):
        item = dataset[idx]
        views = item['inputs']
        assert len(views) == 3 and all(v.shape == (3, 8, 8) for v in views)
        anchor, positive, negative = (int(v[0, 0, 0]) // 40 for v in views)
        component = {0: 0, 1: 0, 2: 0, 3: 1, 4: 1}
        assert positive != anchor and component[positive] == component[anchor]
        assert component[negative] != component[anchor]


def test_graph_file_errors_name_the_file(tmp_path):
    missing = str(tmp_path / 'none.json')
    with pytest.raises(FileNotFoundError, match='none.json.*mine_transitive_graph'):
        PatchGraph.load(missing)
    bad = tmp_path / 'bad.json'
    bad.write_text('{"version": 1, "nodes": [{"img_path": "a.png"}], "edges": [[0, 3, "x"]]}')
    with pytest.raises(ValueError, match='bad.json: edge 0'):
        PatchGraph.load(str(bad))
    single = PatchGraph()
    single.add([dict(img_path='a.png'), dict(img_path='b.png')], [(0, 1)], 'intra')
    single.save(str(tmp_path / 'single.json'))
    with pytest.raises(ValueError, match='single.json.*two components'):
        TransitiveTripletDataset(graph_file=str(tmp_path / 'single.json'))
