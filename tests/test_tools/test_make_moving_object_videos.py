"""tools/dataset_converters/make_moving_object_videos.py: COCO photos -> videos of a moving
object with its true masks (motion segmentation demos)."""
import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from tools.dataset_converters.make_moving_object_videos import (PACKAGE_DIR, _object_path,
                                                                instance_masks, load_photos,
                                                                main, make_video)

OBJ_BGR = (40, 200, 60)  # a green none of the grey backgrounds has
POLYGON = [30, 20, 110, 25, 125, 80, 70, 105, 25, 85]  # ~30 % of the 160 x 120 photo


def texture(seed: int, height: int = 120, width: int = 160) -> np.ndarray:
    """A grey, blurred-noise photo (trackable texture, far from OBJ_BGR)."""
    noise = np.random.default_rng(seed).uniform(70, 170, (height // 4, width // 4))
    grey = cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.repeat(np.clip(grey, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def write_coco(root, annotations=None, names=('photos/a.jpg', 'photos/b.jpg')) -> str:
    coco = dict(images=[dict(id=i, file_name=n, height=120, width=160)
                        for i, n in enumerate(names)],
                annotations=annotations if annotations is not None else [
                    dict(id=1, image_id=0, category_id=1, iscrowd=0, segmentation=[POLYGON]),
                    dict(id=2, image_id=1, category_id=1, iscrowd=0,  # 0.5 %: skipped
                         segmentation=[[5, 5, 15, 5, 15, 15, 5, 15]]),
                    dict(id=3, image_id=1, category_id=1, iscrowd=1,  # crowd RLE: skipped
                         segmentation=dict(counts=[0, 19200], size=[120, 160]))],
                categories=[dict(id=1, name='thing')])
    path = osp.join(root, 'ann.json')
    with open(path, 'w') as f:
        json.dump(coco, f)
    return path


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp('coco')
    (root / 'photos').mkdir()
    photo = texture(0)
    cv2.fillPoly(photo, [np.array(POLYGON).reshape(-1, 2).astype(np.int32)], OBJ_BGR)
    cv2.imwrite(str(root / 'photos' / 'a.jpg'), photo, [cv2.IMWRITE_JPEG_QUALITY, 98])
    cv2.imwrite(str(root / 'photos' / 'b.jpg'), texture(1), [cv2.IMWRITE_JPEG_QUALITY, 98])
    return root, write_coco(str(root))


def run(out, ann, *extra) -> None:
    main(['--ann', ann, '--out', str(out), '--num-videos', '2', '--frames', '6',
          '--size', '96', *extra])


def read_frames(path: str) -> list:
    cap = cv2.VideoCapture(path)
    assert cap.isOpened(), path
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def read_masks(out, video: str) -> list:
    paths = sorted(glob.glob(osp.join(out, 'gt_masks', video, '*.png')))
    return [cv2.imread(p, cv2.IMREAD_UNCHANGED) for p in paths]


@pytest.fixture(scope='module')
def made(data, tmp_path_factory):
    root, ann = data
    out = tmp_path_factory.mktemp('made')
    run(out, ann)
    return out


def test_videos_decode_with_a_mask_per_frame(made, capsys):
    for num in range(2):
        frames = read_frames(osp.join(made, 'videos', f'video_{num:03d}.avi'))
        assert len(frames) == 6 and all(f.shape == (96, 96, 3) for f in frames)
        masks = read_masks(made, f'video_{num:03d}')
        assert [osp.basename(p) for p in sorted(glob.glob(
            osp.join(made, 'gt_masks', f'video_{num:03d}', '*.png')))] == \
            [f'{t:06d}.png' for t in range(6)]
        for mask in masks:
            assert mask.shape == (96, 96) and mask.dtype == np.uint8
            assert set(np.unique(mask)) == {0, 255}
    assert not osp.exists(osp.join(made, 'videos', 'video_002.avi'))


def test_gt_mask_moves_2_to_4_px_a_frame_with_a_constant_area(made):
    for num in range(2):
        masks = [m > 0 for m in read_masks(made, f'video_{num:03d}')]
        areas = np.array([m.sum() for m in masks], float)
        # longer side 0.25-0.45 of 96 px; the polygon fills ~2/3 of its box
        assert areas.min() > 0.5 * (0.25 * 96) ** 2 * 0.5 and areas.max() < (0.45 * 96) ** 2
        assert np.ptp(areas) <= 0.05 * areas.mean()
        centroids = np.array([np.argwhere(m).mean(0) for m in masks])
        steps = np.linalg.norm(np.diff(centroids, axis=0), axis=1)
        assert steps.min() >= 2 - 0.25 and steps.max() <= 4 + 0.25, steps
        assert not any(m[0].any() and m[-1].any() and m[:, 0].any() and m[:, -1].any()
                       for m in masks)  # inside the frame


def test_decoded_object_pixels_have_the_object_colour(made):
    kernel = np.ones((5, 5), np.uint8)
    for num in range(2):
        frames = read_frames(osp.join(made, 'videos', f'video_{num:03d}.avi'))
        for frame, mask in zip(frames, read_masks(made, f'video_{num:03d}')):
            inside = cv2.erode(mask, kernel) > 0
            outside = cv2.dilate(mask, kernel) == 0
            assert inside.sum() > 50
            diff = np.abs(frame.astype(int) - OBJ_BGR)
            assert np.median(diff[inside]) < 12 and np.percentile(diff[inside], 95) < 35
            green = frame[..., 1].astype(int) - frame[..., 2]  # G - R: ~140 on the object
            assert np.percentile(green[outside], 99) < 40  # the grey photo b around it


def test_seeded_runs_are_identical(data, made, tmp_path):
    root, ann = data
    run(tmp_path / 'same', ann)
    run(tmp_path / 'other', ann, '--seed', '1')
    for num in range(2):
        name = f'video_{num:03d}'
        ref = read_masks(made, name)
        assert all(np.array_equal(a, b) for a, b in zip(ref, read_masks(tmp_path / 'same', name)))
        assert all(np.array_equal(a, b) for a, b in zip(
            read_frames(osp.join(made, 'videos', f'{name}.avi')),
            read_frames(str(tmp_path / 'same' / 'videos' / f'{name}.avi'))))
    assert not all(np.array_equal(a, b) for a, b in zip(
        read_masks(made, 'video_000'), read_masks(tmp_path / 'other', 'video_000')))


def test_images_folder_by_base_name_and_summary(data, tmp_path, capsys):
    root, ann = data
    main(['--ann', ann, '--images', str(root / 'photos'), '--out', str(tmp_path),
          '--num-videos', '1', '--frames', '3', '--size', '32'])
    assert 'wrote 1 videos of 3 frames, 32x32' in capsys.readouterr().out
    assert len(read_frames(str(tmp_path / 'videos' / 'video_000.avi'))) == 3


def test_instances_skip_small_crowd_and_rle(data):
    root, ann = data
    with open(ann) as f:
        coco = json.load(f)
    photos = load_photos(coco, str(root))
    assert sorted(photos) == [0, 1] and photos[0].shape == (120, 160, 3)
    found = instance_masks(ann, photos)
    assert len(found) == 1 and found[0][0] == 0
    assert 0.25 < found[0][1].mean() < 0.4


def test_pan_moves_the_background_at_a_constant_velocity():
    # ramps in x (blue) and y (green), dithered: a shift v changes the mean by slope * v
    yy, xx = np.mgrid[0:200, 0:200]
    noise = np.random.default_rng(5).normal(0, 3, (200, 200, 2))
    background = np.clip(np.dstack([20 + xx + noise[..., 0], 20 + yy + noise[..., 1],
                                    np.full_like(xx, 128.)]), 0, 255).astype(np.uint8)
    obj, obj_mask = np.full((10, 10, 3), OBJ_BGR, np.uint8), np.ones((10, 10), bool)
    rng = np.random.default_rng(0)
    frames, masks = make_video(background, obj, obj_mask, 5, 64, rng, pan=1.5,
                               scale=(0.15, 0.15))
    shifts = []
    for a, b, mask_a, mask_b in zip(frames, frames[1:], masks, masks[1:]):
        a, b = a.astype(float), b.astype(float)
        slope = np.mean(np.diff(a[..., 0], axis=1)), np.mean(np.diff(a[..., 1], axis=0))
        diff = (b - a)[(mask_a == 0) & (mask_b == 0)]
        shifts.append(diff[:, :2].mean(0) / slope)
    shifts = np.array(shifts)
    assert np.abs(np.linalg.norm(shifts, axis=1) - 1.5).max() < 0.2, shifts
    assert np.abs(shifts - shifts.mean(0)).max() < 0.2, shifts
    frames, masks = make_video(background, obj, obj_mask, 5, 64, rng)  # pan 0: still
    moved = cv2.dilate(np.max(masks, axis=0), np.ones((3, 3), np.uint8))  # + soft edge
    still = moved == 0
    assert still.sum() > 0.7 * 64 * 64
    assert all(np.array_equal(f[still], frames[0][still]) for f in frames)


def test_object_path_is_straight_or_bounces_at_full_speed():
    rng = np.random.default_rng(0)
    for frames, free in ((16, (70.0, 80.0)), (40, (12.0, 19.0)), (30, (3.0, 50.0))):
        path = _object_path(frames, np.array(free), rng, (2.0, 4.0))
        steps = np.diff(path, axis=0)
        assert path.shape == (frames, 2) and (path >= 0).all() and (path <= free).all()
        if free[0] >= 4:  # room for a step: every step at the one speed
            speed = np.linalg.norm(steps, axis=1)
            assert 2 <= speed[0] <= 4 and np.allclose(speed, speed[0])
        if frames == 16:  # the straight path fits: one velocity
            assert np.allclose(steps, steps[0])
        else:
            assert not np.allclose(steps, steps[0])  # bounced
    obj = np.full((20, 20, 3), OBJ_BGR, np.uint8)
    _, masks = make_video(texture(3), obj, np.ones((20, 20), bool), 40, 32,
                          np.random.default_rng(0), scale=(0.4, 0.4))
    areas = [(m > 0).sum() for m in masks]
    assert max(areas) - min(areas) <= 0.1 * np.mean(areas)  # never cut by the border


def test_errors_name_the_file(data, tmp_path, capsys):
    root, ann = data
    with pytest.raises(SystemExit):
        main(['--ann', str(tmp_path / 'nowhere.json'), '--out', str(tmp_path)])
    assert 'nowhere.json' in capsys.readouterr().err
    missing = write_coco(str(tmp_path), names=('photos/a.jpg', 'photos/gone.jpg'))
    with pytest.raises(FileNotFoundError, match='gone.jpg'):
        main(['--ann', missing, '--images', str(root), '--out', str(tmp_path / 'o')])
    (tmp_path / 'bad').mkdir()
    useless = write_coco(str(tmp_path / 'bad'), annotations=[
        dict(id=1, image_id=0, category_id=1, iscrowd=0, segmentation=[[1, 1, 5, 1, 5, 5]])])
    with pytest.raises(ValueError, match='no usable instance') as info:
        main(['--ann', useless, '--images', str(root), '--out', str(tmp_path / 'o')])
    assert useless in str(info.value)
    with pytest.raises(SystemExit):
        main(['--ann', ann, '--out', str(tmp_path), '--frames', '1'])
    assert '--frames' in capsys.readouterr().err


@pytest.mark.skipif(not osp.isfile(osp.join(PACKAGE_DIR, 'annotations.json')),
                    reason='Debian package labelme-examples not installed')
def test_real_labelme_photos(tmp_path, capsys):
    main(['--out', str(tmp_path), '--num-videos', '1', '--frames', '4', '--size', '64'])
    assert 'from 10 instances in 3 photos' in capsys.readouterr().out
    frames = read_frames(str(tmp_path / 'videos' / 'video_000.avi'))
    assert len(frames) == 4 and all(f.shape == (64, 64, 3) for f in frames)
    masks = [m > 0 for m in read_masks(tmp_path, 'video_000')]
    assert len(masks) == 4 and all(m.sum() > 20 for m in masks)
    centroids = np.array([np.argwhere(m).mean(0) for m in masks])
    steps = np.linalg.norm(np.diff(centroids, axis=0), axis=1)
    assert steps.min() >= 2 - 0.3 and steps.max() <= 4 + 0.3
    assert not list(tmp_path.glob('**/*.jpg'))  # nothing of the package copied
