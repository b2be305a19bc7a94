"""mmssl/datasets/transforms/pretext.py: the geometry of the pretext tasks' views."""
import itertools

import cv2
import numpy as np
import pytest
from mmengine.dataset import default_collate

from mmssl.datasets.transforms.pretext import (INTERPOLATIONS, NEIGHBOURS, CountingViews,
                                               FourRotations, JigsawTiles, grid_boxes,
                                               load_permutations, max_hamming_permutations)
from mmssl.registry import TRANSFORMS


def coded_image(h, w):
    """H x W x 3 uint8 whose (y, x) pixel is (y, x, 7): every crop says where it came from."""
    ys, xs = np.mgrid[0:h, 0:w]
    return np.stack([ys, xs, np.full_like(ys, 7)], axis=2).astype(np.uint8)


def origin(view):
    """The (y, x) of a crop of a coded image."""
    return int(view[0, 0, 0]), int(view[0, 0, 1])


@pytest.mark.parametrize('jitter', [0, 2])
def test_grid_boxes_positions_gaps_and_jitter(jitter):
    np.random.seed(0)
    patch, gap = 5, 4
    for _ in range(50):
        boxes = grid_boxes(30, 33, 3, patch, gap, jitter)
        assert boxes.shape == (9, 4) and (boxes[:, 2:] == patch).all()
        assert (boxes[:, :2] >= 0).all()
        assert (boxes[:, 0] + patch <= 30).all() and (boxes[:, 1] + patch <= 33).all()
        grid = boxes[:, :2].reshape(3, 3, 2)
        # row-major: rows share y (up to jitter), columns share x; neighbours one cell apart
        step_y = grid[1:, :, 0] - grid[:-1, :, 0]
        step_x = grid[:, 1:, 1] - grid[:, :-1, 1]
        for step in (step_y, step_x):
            assert (abs(step - (patch + gap)) <= 2 * jitter).all()
            assert (step - patch >= gap - 2 * jitter).all()  # the gap between the patches
        if jitter == 0:
            assert (step_y == patch + gap).all() and (step_x == patch + gap).all()


def test_grid_boxes_jitter_and_placement_are_random():
    np.random.seed(1)
    draws = np.stack([grid_boxes(40, 40, 3, 5, 4, 2) for _ in range(200)])
    offsets = draws[:, :, :2] - draws[:, :1, :2]  # relative to the top-left patch
    assert len(np.unique(offsets.reshape(200, -1), axis=0)) > 100  # jittered per patch
    assert len(np.unique(draws[:, 4, 0])) > 10  # the grid moves inside the image


def test_grid_boxes_errors():
    with pytest.raises(ValueError, match='needs 27 px a side; the image is 26x40'):
        grid_boxes(26, 40, 3, 7, 2, 1)
    with pytest.raises(ValueError, match='over half the gap'):
        grid_boxes(60, 60, 3, 7, 2, 2)


def test_four_rotations_are_counter_clockwise_quarter_turns():
    img = np.zeros((5, 5, 3), np.uint8)
    img[0, 4] = 255  # a mark in the top-right corner
    results = FourRotations()(dict(img=img.copy()))
    views, label = results['img'], results['pretext_label']
    assert len(views) == 4 and label.tolist() == [0, 1, 2, 3] and label.dtype == np.int64
    corners = [tuple(np.argwhere(v[..., 0] == 255)[0]) for v in views]
    # 0: top-right, 90 CCW: top-left, 180: bottom-left, 270: bottom-right
    assert corners == [(0, 4), (0, 0), (4, 0), (4, 4)]
    for k, view in enumerate(views):
        np.testing.assert_array_equal(view, np.rot90(img, k))
        assert view.flags.c_contiguous
    with pytest.raises(ValueError, match='square'):
        FourRotations()(dict(img=np.zeros((4, 6, 3), np.uint8)))


def test_relative_loc_pair_is_centre_and_labelled_neighbour():
    np.random.seed(0)
    transform = TRANSFORMS.build(dict(type='RelativeLocPatches', patch=6, gap=4, jitter=1))
    img = coded_image(40, 40)
    seen = set()
    for _ in range(200):
        results = transform(dict(img=img))
        (centre, other), (label,) = results['img'], results['pretext_label']
        assert centre.shape == other.shape == (6, 6, 3)
        boxes = results['patch_boxes']
        assert origin(centre) == tuple(boxes[0, :2]) and origin(other) == tuple(boxes[1, :2])
        np.testing.assert_array_equal(other, img[boxes[1, 0]:boxes[1, 0] + 6,
                                                 boxes[1, 1]:boxes[1, 1] + 6])
        # the neighbour's offset from the centre is one cell (10 px +- 2) in NEIGHBOURS' way
        dy, dx = boxes[1, :2] - boxes[0, :2]
        r, c = NEIGHBOURS[label]
        for d, cell in ((dy, r - 1), (dx, c - 1)):
            assert abs(d - 10 * cell) <= 2
        seen.add(int(label))
    assert seen == set(range(8))
    assert NEIGHBOURS == ((0, 0), (0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1), (2, 2))


@pytest.fixture
def permutation_file(tmp_path):
    path = str(tmp_path / 'perms.npy')
    np.save(path, max_hamming_permutations(10))
    return path


def test_jigsaw_tiles_follow_the_labelled_permutation(permutation_file):
    np.random.seed(0)
    perms = load_permutations(permutation_file)
    transform = JigsawTiles(permutation_file, tile=4, gap=2, jitter=1)
    img = coded_image(24, 24)
    seen = set()
    for _ in range(100):
        results = transform(dict(img=img))
        tiles, (label,) = results['img'], results['pretext_label']
        assert len(tiles) == 9 and all(t.shape == (4, 4, 3) for t in tiles)
        # put the tiles back: tile k sits at grid cell perms[label][k]
        placed = np.empty((9, 2), int)
        placed[perms[label]] = [origin(t) for t in tiles]
        grid = placed.reshape(3, 3, 2)
        assert (np.diff(grid[:, :, 0], axis=0) >= 4 + 2 - 2).all()  # rows go down, gap kept
        assert (np.diff(grid[:, :, 1], axis=1) >= 4 + 2 - 2).all()  # columns go right
        assert (abs(np.diff(grid[:, :, 0], axis=0) - 6) <= 2).all()
        assert (abs(grid[:, :, 0] - grid[:, :1, 0]) <= 2).all()  # a row shares y (+- jitter)
        np.testing.assert_array_equal(results['patch_boxes'][:, :2],
                                      [origin(t) for t in tiles])
        seen.add(int(label))
    assert seen == set(range(10))


def test_jigsaw_rejects_bad_permutation_files(tmp_path):
    bad = str(tmp_path / 'bad.npy')
    np.save(bad, np.array([[0, 1, 2], [0, 0, 1]]))
    with pytest.raises(ValueError, match='permutations of 0..T-1'):
        load_permutations(bad)
    np.save(bad, np.array([[0, 1, 2], [0, 1, 2]]))
    with pytest.raises(ValueError, match='repeat'):
        load_permutations(bad)
    np.save(bad, np.array([[0, 1, 2], [2, 1, 0]]))
    with pytest.raises(ValueError, match='must have 9 entries'):
        JigsawTiles(bad, tile=4, gap=2, jitter=1)


def min_hamming(perms):
    return min(int((a != b).sum()) for a, b in itertools.combinations(perms, 2))


def test_permutations_are_distinct_and_greedy_max_min():
    perms = max_hamming_permutations(100)
    assert perms.shape == (100, 9) and perms.dtype == np.int64
    assert (np.sort(perms, axis=1) == np.arange(9)).all()
    assert len(np.unique(perms, axis=0)) == 100
    assert min_hamming(perms) >= 6  # the greedy max-min set of 100 reaches 6
    # each choice maximises the minimal distance to those before it (5 tiles: exhaustive)
    small = max_hamming_permutations(12, num_tiles=5, seed=3)
    every = np.array(list(itertools.permutations(range(5))))
    for k in range(1, len(small)):
        dist_to_chosen = (every[:, None, :] != small[None, :k, :]).sum(axis=2).min(axis=1)
        assert dist_to_chosen.max() == (small[k] != small[:k]).sum(axis=1).min()
    # where the maximum is known it is reached: 3 cyclic shifts, a 4 x 4 Latin square
    assert min_hamming(max_hamming_permutations(3, num_tiles=3)) == 3
    assert min_hamming(max_hamming_permutations(4, num_tiles=4)) == 4
    with pytest.raises(ValueError, match='cannot choose 7 of the 6'):
        max_hamming_permutations(7, num_tiles=3)


def test_counting_views_are_the_downsampled_image_and_its_quarters():
    np.random.seed(0)
    img = np.random.randint(0, 256, (8, 12, 3), np.uint8)
    transform = CountingViews(interpolations=['area'], grayscale_prob=0.0)
    results = transform(dict(img=img))
    down, *tiles = results['img']
    assert results['interpolation'] == 'area'
    assert down.shape == (4, 6, 3) and all(t.shape == (4, 6, 3) for t in tiles)
    np.testing.assert_array_equal(tiles[0], img[:4, :6])
    np.testing.assert_array_equal(tiles[1], img[:4, 6:])
    np.testing.assert_array_equal(tiles[2], img[4:, :6])
    np.testing.assert_array_equal(tiles[3], img[4:, 6:])
    # area interpolation at 2x: the mean of each 2 x 2 block
    blocks = img.reshape(4, 2, 6, 2, 3).astype(float).mean(axis=(1, 3))
    assert np.abs(down - blocks).max() <= 1
    # reassembled quarters are the image
    np.testing.assert_array_equal(
        np.concatenate([np.concatenate(tiles[:2], 1), np.concatenate(tiles[2:], 1)], 0), img)


def test_counting_views_draw_every_filter_and_grey():
    np.random.seed(0)
    img = np.random.randint(0, 256, (8, 8, 3), np.uint8)
    transform = CountingViews(grayscale_prob=0.5)
    names, greys = set(), 0
    for _ in range(200):
        results = transform(dict(img=img))
        name = results['interpolation']
        names.add(name)
        views = results['img']
        grey = all((v[..., 0] == v[..., 1]).all() and (v[..., 1] == v[..., 2]).all()
                   for v in views)
        greys += grey
        source = CountingViews.to_gray(img) if grey else img
        expected = cv2.resize(source, (4, 4), interpolation=INTERPOLATIONS[name])
        np.testing.assert_array_equal(views[0], expected)
        np.testing.assert_array_equal(views[1], source[:4, :4])
    assert names == set(INTERPOLATIONS)
    assert 60 < greys < 140
    with pytest.raises(ValueError, match='even height and width'):
        transform(dict(img=np.zeros((7, 8, 3), np.uint8)))
    with pytest.raises(ValueError, match='unknown interpolations'):
        CountingViews(interpolations=['box'])


def test_pretext_label_is_packed_into_the_data_samples():
    np.random.seed(0)
    pack = TRANSFORMS.build(dict(type='PackInputs', algorithm_keys=['pretext_label']))
    samples = [pack(FourRotations()(dict(img=coded_image(6, 6), gt_label=3)))
               for _ in range(2)]
    batch = default_collate(samples)
    assert len(batch['inputs']) == 4 and batch['inputs'][1].shape == (2, 3, 6, 6)
    sample = batch['data_samples'][0]
    assert np.asarray(sample.pretext_label).tolist() == [0, 1, 2, 3]
    assert sample.gt_label.tolist() == [3]  # the class stays apart from the pretext label


def test_multi_task_views_concatenate_every_tasks_views_in_order():
    np.random.seed(0)
    transform = TRANSFORMS.build(dict(type='MultiTaskViews', tasks=dict(
        rotation=[dict(type='Resize', scale=(6, 6)), dict(type='FourRotations')],
        relpos=[dict(type='Resize', scale=(24, 24)),
                dict(type='RelativeLocPatches', patch=6, gap=2, jitter=1)],
        counting=[dict(type='CountingViews', grayscale_prob=0.0)])))
    img = coded_image(12, 12)
    results = transform(dict(img=img, gt_label=1))
    views = results['img']
    assert results['task_views'] == dict(rotation=4, relpos=2, counting=5)
    assert len(views) == 11 and all(v.shape == (6, 6, 3) for v in views)
    assert results['pretext_label']['rotation'].tolist() == [0, 1, 2, 3]
    assert set(results['pretext_label']) == {'rotation', 'relpos'}  # counting: no label
    assert origin(views[-4]) == (0, 0) and origin(views[-1]) == (6, 6)  # counting's tiles
    np.testing.assert_array_equal(img, coded_image(12, 12))  # the input is not modified


def test_colorization_views_lightness_in_quantised_ab_out():
    from mmssl.datasets.transforms import ColorizationViews, lab_from_bgr, quantize_ab
    red, blue = (0, 0, 255), (255, 0, 0)  # BGR
    np.testing.assert_allclose(lab_from_bgr(np.array([[red]], np.uint8))[0, 0],
                               [53.24, 80.09, 67.20], atol=0.05)  # sRGB red in CIE Lab
    # bins of 10 from -110: a = 80.09 -> 19, b = 67.20 -> 17; grey (0, 0) -> (11, 11)
    assert quantize_ab(np.array([80.09, 67.20])) == 19 * 22 + 17
    assert quantize_ab(np.array([0.0, 0.0])) == 11 * 22 + 11
    assert quantize_ab(np.array([-500.0, 500.0])) == 0 * 22 + 21  # clipped to the grid
    img = np.zeros((8, 8, 3), np.uint8)
    img[:, :4], img[:, 4:] = red, blue
    transform = ColorizationViews(target_size=4)
    results = transform(dict(img=img))
    (view,), label = results['img'], results['ab_label']
    assert view.shape == (8, 8, 3) and (view == view[..., :1]).all()  # grey, 3 channels
    lab = lab_from_bgr(img)
    np.testing.assert_array_equal(view[0, 0], np.full(3, round(lab[0, 0, 0] * 2.55)))
    assert label.shape == (4, 4) and label.dtype == np.int64 and transform.num_bins == 484
    assert (label[:, :2] == quantize_ab(lab[0, 0, 1:])).all()
    assert (label[:, 2:] == quantize_ab(lab[0, 7, 1:])).all()
    assert quantize_ab(lab[0, 0, 1:]) != quantize_ab(lab[0, 7, 1:])


def test_lightness_is_colorizations_input_and_harmonises_the_multitask_config():
    """Doersch & Zisserman's input harmonisation: relative position's patches are made from
    the lightness image colorization reads, not by colour dropping."""
    import os.path as osp

    from mmengine.config import Config

    from mmssl.datasets.transforms import ColorizationViews
    from tests._helpers import REPO_ROOT
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (16, 16, 3), np.uint8)
    light = TRANSFORMS.build(dict(type='Lightness'))(dict(img=img.copy()))['img']
    colorization_input = ColorizationViews(target_size=4)(dict(img=img.copy()))['img'][0]
    np.testing.assert_array_equal(light, colorization_input)
    with pytest.raises(ValueError, match='3-channel'):
        TRANSFORMS.build(dict(type='Lightness'))(dict(img=img[..., 0]))

    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs/multitasklasso/'
                                   'multitasklasso_resnet50_8xb32-steplr-70e_in1k.py'))
    tasks = next(t for t in cfg.train_pipeline if t['type'] == 'MultiTaskViews')['tasks']
    relpos = TRANSFORMS.build(dict(type='MultiTaskViews', tasks=dict(relpos=tasks['relpos'])))
    big = rng.integers(0, 255, (420, 440, 3), np.uint8)
    for view in relpos(dict(img=big))['img']:  # every patch grey: 3 equal channels
        assert (view == view[..., :1]).all()
