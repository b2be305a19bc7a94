"""The transitive-invariance patch graph: KLT tracks, 4-clique mining, transitive pairs."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmssl.datasets import TransitiveTripletDataset, read_idx
from mmssl.mining.graph import PatchGraph, connected_components
from mmssl.mining.inter_edges import four_clique_edges, inter_instance_edges, knn_within_clusters
from mmssl.mining.tracking import mine_video, track_heads, track_points
from mmssl.mining.video import read_video
from tools.dataset_converters.mine_transitive_graph import main as mine_main

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


def test_inter_edges_need_mutual_neighbours():
    # a, b, c, d within 0.06 rad; e 0.3 rad from a: e's 3 nearest are a, b, c, but none
    # of them has e among its 3 nearest, so {a, b, c, e} is no clique of the paper's graph
    angles = np.array([0.0, 0.02, 0.04, 0.06, -0.3])
    feats = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    edges = inter_instance_edges(feats, num_clusters=1, num_neighbours=3)
    assert edges == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]


def test_inter_edges_skip_patches_of_the_same_video():
    # three videos, each with two near-identical patches
    rng = np.random.default_rng(1)
    base = rng.standard_normal((3, 6))
    feats = np.repeat(base, 2, axis=0) + 0.01 * rng.standard_normal((6, 6))
    videos = np.array([0, 0, 1, 1, 2, 2])
    clusters = np.zeros(6, np.int64)
    free = knn_within_clusters(feats, clusters, 1)
    assert [sorted(n) for n in free] == [[1], [0], [3], [2], [5], [4]]
    apart = knn_within_clusters(feats, clusters, 2, groups=videos)
    assert any(apart) and all(videos[i] != videos[j] for i in range(6) for j in apart[i])


def test_transitive_pairs_chain_one_inter_and_one_intra_edge():
    graph = PatchGraph()
    records = [dict(source='v', frame=0, box=[0, 0, 4, 4], track=t) for t in range(7)]
    # tracks: A = 0 -> 1, 2 (two later views); B = 3 -> 4; C = 5 -> 6
    graph.add(records, [(0, 1), (0, 2), (3, 4), (5, 6)], 'intra')
    graph.link([(0, 3), (3, 5), (2, 3)], 'inter')
    assert graph.pairs('intra') == [(0, 1), (0, 2), (3, 4), (5, 6)]
    assert graph.pairs('inter') == [(0, 3), (2, 3), (3, 5)]
    # (A, B'), (B, A'), (B, C'), (C, B'), (A'', B'); (2, 3) is an inter edge itself, (1, 4)
    # takes two intra edges and (0, 5) two inter edges: none of them is transitive
    assert graph.pairs('transitive') == [(0, 4), (1, 3), (2, 4), (3, 6), (4, 5)]
    assert graph.pair_counts() == dict(intra=4, inter=3, transitive=5)
    np.testing.assert_array_equal(graph.components(), np.zeros(7))
    assert graph.reachable(1).tolist() == [0, 2, 3, 4, 5, 6]
    assert connected_components(3, []).tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match='kind'):
        graph.link([(0, 1)], 'other')
    with pytest.raises(ValueError, match='pair kind'):
        graph.pairs('other')
    with pytest.raises(ValueError, match=r'edge \(0, 9\)'):
        graph.link([(0, 9)], 'inter')


# ----------------------------------------------------- synthetic videos of known objects
CLIP_FRAMES = 10
CLIP_SIDE = 96
OBJECT_SIDE = 40
PER_KIND = 4  # a 4-clique of inter edges needs 4 videos


def write_clip(folder: str, texture: np.ndarray, start: np.ndarray, step: np.ndarray,
               label: str) -> None:
    """A video as PNG frames in ``folder``: ``texture`` (OBJECT_SIDE px, grey) moving by
    ``step`` per frame from ``start`` (x, y) over flat grey, with a labelme JSON per frame
    (the object's box, a polygon labelled ``label``)."""
    os.makedirs(folder)
    for t in range(CLIP_FRAMES):
        frame = np.full((CLIP_SIDE, CLIP_SIDE, 3), 90, np.uint8)
        x, y = (int(v) for v in start + t * step)
        frame[y:y + OBJECT_SIDE, x:x + OBJECT_SIDE] = texture[..., None]
        cv2.imwrite(osp.join(folder, f'{t:05d}.png'), frame)
        corners = [[x, y], [x + OBJECT_SIDE, y], [x + OBJECT_SIDE, y + OBJECT_SIDE],
                   [x, y + OBJECT_SIDE]]
        shape = dict(label=label, points=corners, shape_type='polygon')
        with open(osp.join(folder, f'{t:05d}.json'), 'w') as f:
            json.dump(dict(shapes=[shape], imageHeight=CLIP_SIDE, imageWidth=CLIP_SIDE), f)


def write_object_videos(root: str, textures: list) -> list[dict]:
    """Frame folders of known objects (:func:`write_clip`): video v shows texture v % 2
    (its kind, label ``kind{k}``) at a contrast of its own (another instance), from its
    own start and in one of two directions. Returns per video: ``folder``, ``kind``,
    ``start`` (x, y top-left in frame 0) and ``step`` (pixels per frame).
    """
    videos = []
    for v in range(len(textures) * PER_KIND):
        kind, num = v % len(textures), v // len(textures)
        texture = cv2.resize(textures[kind], (OBJECT_SIDE, OBJECT_SIDE))
        texture = np.clip(texture * (0.8 + 0.1 * num), 0, 255).astype(np.uint8)
        start = np.array([10 + 4 * num, 12 + 3 * num])
        step = np.array([3.0, 2.0]) if num % 2 else np.array([2.0, 3.0])
        folder = osp.join(root, f'video{v}')
        write_clip(folder, texture, start, step, f'kind{kind}')
        videos.append(dict(folder=folder, kind=kind, start=start, step=step))
    return videos


@pytest.fixture(scope='module')
def textures(fashion_mnist_root) -> list:
    """Two Fashion-MNIST test images (28 x 28 float32): the two kinds of object."""
    images = read_idx(osp.join(fashion_mnist_root, 't10k-images-idx3-ubyte.gz'))
    return [images[0].astype(np.float32), images[1].astype(np.float32)]


@pytest.fixture(scope='module')
def object_videos(tmp_path_factory, textures):
    return write_object_videos(str(tmp_path_factory.mktemp('objects')), textures)


def _on_object(video: dict, node: dict) -> bool:
    """Whether the node's box centre lies on the video's object in the node's frame."""
    x0, y0 = video['start'] + node['frame'] * video['step']
    cx, cy = (node['box'][0] + node['box'][2]) / 2, (node['box'][1] + node['box'][3]) / 2
    return x0 <= cx < x0 + OBJECT_SIDE and y0 <= cy < y0 + OBJECT_SIDE


def test_miner_reaches_other_instances_in_other_views(object_videos, tmp_path, capsys):
    """One track per video (its strongest corner): 8 intra edges (first, last frame);
    inter edges among the track heads of other videos: the 4 videos of a kind form one
    4-clique, 6 edges per kind; each inter edge A-B gives 2 transitive pairs (A, B')
    and (B, A')."""
    out = str(tmp_path / 'graph.json')
    frames = [arg for video in object_videos for arg in ('--frames', video['folder'])]
    counts = mine_main(frames + ['--clusters', '2', '--neighbours', '3', '--max-corners', '1',
                                 '--patch-size', '24', '--out', out])
    expected = dict(intra=8, inter=12, transitive=24)
    assert counts == expected
    assert 'positive pairs: 8 intra, 12 inter, 24 transitive' in capsys.readouterr().out
    with open(out) as f:
        assert json.load(f)['counts'] == expected
    graph = PatchGraph.load(out)
    video_of = {video['folder']: video for video in object_videos}
    nodes = graph.nodes
    assert all(_on_object(video_of[n['source']], n) for n in nodes)  # tracks follow objects
    for i, j in graph.pairs('inter'):  # same kind, other video, both track heads
        assert video_of[nodes[i]['source']]['kind'] == video_of[nodes[j]['source']]['kind']
        assert nodes[i]['source'] != nodes[j]['source']
        assert nodes[i]['frame'] == nodes[j]['frame'] == 0
    # the transitive pairs, found by brute force: not an edge, but an inter edge and then an
    # intra edge lead from one to the other
    intra, inter = graph.neighbours('intra'), graph.neighbours('inter')

    def through_both(x: int, y: int) -> bool:  # x -inter- b -intra- y, or the reverse
        return (any(y in intra[b] for b in inter[x])
                or any(x in intra[b] for b in inter[y]))
    chained = [(x, y) for x in range(len(nodes)) for y in range(x + 1, len(nodes))
               if y not in intra[x] | inter[x] and through_both(x, y)]
    assert graph.pairs('transitive') == chained
    for i, j in chained:  # another instance of the kind, in another frame (viewpoint)
        assert nodes[i]['source'] != nodes[j]['source']
        assert video_of[nodes[i]['source']]['kind'] == video_of[nodes[j]['source']]['kind']
        assert {nodes[i]['frame'], nodes[j]['frame']} == {0, CLIP_FRAMES - 1}
    # the paper's example: A in video 0, B its inter neighbour, B' = B tracked to the end
    a = track_heads(nodes)[0]
    b = min(inter[a])
    (b_later, ) = intra[b]
    assert (a, b_later) in chained and nodes[b_later]['frame'] == CLIP_FRAMES - 1
    dataset = TransitiveTripletDataset(graph_file=out, pair_kinds=('transitive', ))
    assert len(dataset) == 24


def test_miner_counts_tracked_patches_on_labelme_polygons(textures, tmp_path, capsys):
    # the object in the lower right, frames downscaled 96 -> 48 px: the polygons must be
    # scaled alike (unscaled, they would lie right of and below every tracked point)
    folder = str(tmp_path / 'clip')
    texture = cv2.resize(textures[0], (OBJECT_SIDE, OBJECT_SIDE)).astype(np.uint8)
    write_clip(folder, texture, np.array([50, 50]), np.array([0.5, 0.5]), 'shirt')
    mine_main(['--frames', folder, '--max-corners', '1', '--patch-size', '16',
               '--max-side', '48', '--score-labelme', 'shirt', 'car',
               '--out', str(tmp_path / 'graph.json')])
    printed = capsys.readouterr().out
    assert "2 of the 2 tracked patches lie on 'shirt' (1 of the 1 tracks at both" in printed
    assert "0 of the 2 tracked patches lie on 'car'" in printed
    assert 'no --clusters: no inter-instance edges' in printed
    frames = read_video(folder, max_frames=3, max_side=48)
    assert len(frames) == 3 and frames[0].shape == (48, 48, 3)


def _hand_graph(tmp_path) -> str:
    """The graph of test_transitive_pairs_chain_one_inter_and_one_intra_edge and two
    unpaired nodes 7, 8; node n's crop an 8 x 8 PNG of grey level 30 n."""
    graph = PatchGraph()
    records = [dict(source='v', frame=0, box=[0, 0, 8, 8], track=t) for t in range(9)]
    graph.add(records, [(0, 1), (0, 2), (3, 4), (5, 6)], 'intra')
    graph.link([(0, 3), (3, 5), (2, 3)], 'inter')
    crops = [np.full((8, 8, 3), 30 * n, np.uint8) for n in range(9)]
    path = str(tmp_path / 'graph.json')
    graph.write_crops(crops, str(tmp_path / 'patches'), path, ext='.png')
    graph.save(path)
    return path


def test_dataset_samples_pairs_of_each_kind_and_unpaired_negatives(tmp_path):
    path = _hand_graph(tmp_path)
    graph = PatchGraph.load(path)
    pairs = {kind: set(graph.pairs(kind)) for kind in ('intra', 'inter', 'transitive')}
    dataset = TransitiveTripletDataset(
        graph_file=path, view_pipeline=[dict(type='LoadImageFromFile')],
        pipeline=[dict(type='PackInputs', meta_keys=('pair_kind', ))])
    assert len(dataset) == 4 + 3 + 5
    only = TransitiveTripletDataset(graph_file=path, pair_kinds=('transitive', 'inter'))
    assert [only.get_data_info(i)['pair_kind'] for i in range(len(only))] == \
        ['transitive'] * 5 + ['inter'] * 3
    np.random.seed(0)
    # node 0 is paired with 1, 2 (intra), 3 (inter) and 4 (transitive); node 3 with all
    # the other nodes of the 7 paired ones
    assert {dataset.sample_negative(0) for _ in range(80)} == {5, 6, 7, 8}
    assert {dataset.sample_negative(3) for _ in range(80)} == {7, 8}
    assert {dataset.sample_negative(6) for _ in range(80)} == {0, 1, 2, 4, 7, 8}
    seen = set()
    for _ in range(3):
        for idx in range(len(dataset)):
            item = dataset[idx]
            anchor, positive, negative = (int(v[0, 0, 0]) // 30 for v in item['inputs'])
            kind = item['data_samples'].pair_kind
            assert (min(anchor, positive), max(anchor, positive)) in pairs[kind]
            linked = {n for p in set().union(*pairs.values()) if anchor in p for n in p}
            assert negative not in linked | {anchor}
            seen.add((anchor, positive))
    assert (0, 4) in seen and (4, 0) in seen  # both orders of a pair


def test_graph_file_errors_name_the_file(tmp_path):
    missing = str(tmp_path / 'none.json')
    with pytest.raises(FileNotFoundError, match='none.json.*mine_transitive_graph'):
        PatchGraph.load(missing)
    bad = tmp_path / 'bad.json'
    bad.write_text('{"version": 1, "nodes": [{"img_path": "a.png"}], "edges": [[0, 3, "x"]]}')
    with pytest.raises(ValueError, match='bad.json: edge 0'):
        PatchGraph.load(str(bad))
    future = tmp_path / 'future.json'
    future.write_text('{"version": 3, "nodes": [], "edges": []}')
    with pytest.raises(ValueError, match='future.json: expected a patch graph of version 1'):
        PatchGraph.load(str(future))
    old = tmp_path / 'old.json'  # version 1: no counts
    old.write_text('{"version": 1, "nodes": [{"img_path": "a.png"}, {"img_path": "b.png"}], '
                   '"edges": [[0, 1, "inter"]]}')
    assert PatchGraph.load(str(old)).pair_counts() == dict(intra=0, inter=1, transitive=0)
    with pytest.raises(ValueError, match='old.json, node 0 is paired with all the 1 other'):
        TransitiveTripletDataset(graph_file=str(old))
    with pytest.raises(ValueError, match="old.json has no pair of the kinds .'intra'"):
        TransitiveTripletDataset(graph_file=str(old), pair_kinds=('intra', ))
    with pytest.raises(ValueError, match='pair_kinds must be'):
        TransitiveTripletDataset(graph_file=str(old), pair_kinds=('chained', ))
