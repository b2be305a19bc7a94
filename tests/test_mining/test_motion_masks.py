"""Motion masks: Farneback flow minus its median on real (MJPG) videos, the mining of
paired frame/mask files, and tools/dataset_converters/mine_motion_masks.py."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from mmssl.mining.motion_masks import mine_motion_masks, motion_mask
from mmssl.mining.video import read_video, write_image
from tools.dataset_converters.mine_motion_masks import main

SIZE = 96  # frames are SIZE x SIZE
PATCH = 24
FRAMES = 12
START = np.array([16, 30])  # the patch's top-left corner (x, y) in frame 0
STEP = np.array([3, 2])  # its displacement per frame (x, y)

_rng = np.random.default_rng(0)
# a textured object over a smooth background (blurred noise stretched to 0..255), wider
# than the frame for the camera pan
TEXTURE = cv2.GaussianBlur(_rng.integers(0, 256, (PATCH, PATCH, 3), dtype=np.uint8), (0, 0), 1)
CANVAS = cv2.normalize(cv2.GaussianBlur(_rng.integers(0, 256, (SIZE, 2 * SIZE, 3),
                                                      dtype=np.uint8), (0, 0), 3),
                       None, 0, 255, cv2.NORM_MINMAX)


def write_video(path, frames) -> str:
    """An MJPG .avi of the (SIZE, SIZE, 3) uint8 BGR ``frames``."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 10, (SIZE, SIZE))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return str(path)


def background(kind: str, pan: int = 0) -> np.ndarray:
    if kind == 'flat':
        return np.full((SIZE, SIZE, 3), 100, np.uint8)
    return CANVAS[:, pan:pan + SIZE].copy()


def patch_corner(t: int, still_until: int = 0) -> np.ndarray:
    """The patch's (x, y) in frame t; it starts moving after frame ``still_until``."""
    return START + max(t - still_until, 0) * STEP


def moving_frames(kind: str = 'smooth', still_until: int = 0, pan: int = 0) -> list:
    """The patch moving by STEP per frame over the static (``pan`` = 0) or panning
    background (``pan`` pixels per frame: the camera moves, the patch still moves by STEP
    relative to the frame)."""
    frames = []
    for t in range(FRAMES):
        frame = background(kind, pan * t)
        x, y = patch_corner(t, still_until)
        frame[y:y + PATCH, x:x + PATCH] = TEXTURE
        frames.append(frame)
    return frames


def union_box(t0: int, t1: int, still_until: int = 0) -> np.ndarray:
    """(SIZE, SIZE) bool: the patch's box in frame t0 or t1."""
    box = np.zeros((SIZE, SIZE), bool)
    for t in (t0, t1):
        x, y = patch_corner(t, still_until)
        box[y:y + PATCH, x:x + PATCH] = True
    return box


def iou(mask: np.ndarray, box: np.ndarray) -> float:
    mask = mask.astype(bool)
    return (mask & box).sum() / (mask | box).sum()


def far_from(box: np.ndarray, margin: int = 8) -> np.ndarray:
    return cv2.dilate(box.astype(np.uint8), np.ones((2 * margin + 1,) * 2, np.uint8)) == 0


@pytest.mark.parametrize('kind,pan', [('flat', 0), ('smooth', 0), ('smooth', 2)])
def test_mask_of_a_moving_patch_covers_its_box(tmp_path, kind, pan):
    frames = read_video(write_video(tmp_path / 'moving.avi', moving_frames(kind, pan=pan)))
    assert len(frames) == FRAMES
    for t in range(FRAMES - 1):
        mask = motion_mask(frames[t], frames[t + 1])
        assert mask.shape == (SIZE, SIZE) and mask.dtype == np.uint8
        assert set(np.unique(mask)) <= {0, 1}
        box = union_box(t, t + 1)
        assert iou(mask, box) >= 0.5, (t, iou(mask, box))
        far = far_from(box)
        assert mask[far].sum() <= 0.005 * far.sum(), (t, mask[far].sum())


def test_static_video_and_camera_pan_give_empty_masks(tmp_path):
    still = moving_frames()[0]
    static = read_video(write_video(tmp_path / 'static.avi', [still] * FRAMES))
    # the camera pans by 2 px per frame over the background with the patch stuck on it
    panned = []
    for t in range(FRAMES):
        canvas = CANVAS.copy()
        canvas[30:30 + PATCH, 70:70 + PATCH] = TEXTURE
        panned.append(canvas[:, 2 * t + 20:2 * t + 20 + SIZE].copy())
    pan = read_video(write_video(tmp_path / 'pan.avi', panned))
    for t in range(FRAMES - 1):
        assert motion_mask(static[t], static[t + 1]).sum() == 0
        assert motion_mask(pan[t], pan[t + 1]).mean() < 0.005, t
        # the median compensation alone, without the relative threshold
        assert motion_mask(pan[t], pan[t + 1], rel_threshold=0).mean() < 0.005, t
    # the pan is real motion: without the median compensation, all would be foreground
    grey = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in pan[:2]]
    flow = cv2.calcOpticalFlowFarneback(*grey, None, 0.5, 3, 11, 3, 5, 1.1, 0)
    assert np.median(np.linalg.norm(flow, axis=2)) > 1.5


def test_motion_mask_checks_its_inputs():
    frame = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match=r'differ'):
        motion_mask(frame, np.zeros((32, 40, 3), np.uint8))
    with pytest.raises(ValueError, match='next_frame must be uint8, got float32'):
        motion_mask(frame, frame.astype(np.float32))
    with pytest.raises(ValueError, match=r'frame must be an \(H, W, 3\).*\(32, 32\)'):
        motion_mask(frame[..., 0], frame)
    with pytest.raises(ValueError, match='open_size.*-1'):
        motion_mask(frame, frame, open_size=-1)
    assert motion_mask(frame, frame, open_size=0).sum() == 0


def test_write_image_errors_name_the_path(tmp_path):
    image = np.zeros((8, 8), np.uint8)
    (tmp_path / 'blocked.png.tmp').mkdir()  # where the temporary file would go
    with pytest.raises(OSError, match='cannot write the image .*blocked.png'):
        write_image(str(tmp_path / 'blocked.png'), image)
    with pytest.raises(OSError, match='cannot write the image .*odd.xyz'):
        write_image(str(tmp_path / 'odd.xyz'), image)
    write_image(str(tmp_path / 'sub' / 'ok.png'), image)
    assert cv2.imread(str(tmp_path / 'sub' / 'ok.png'), cv2.IMREAD_UNCHANGED).shape == (8, 8)


def test_mine_writes_paired_frames_and_masks(tmp_path):
    # still for frames 0..5, then moving: masks at t = 0, 2, ..., 10, the still ones dropped
    frames = moving_frames(still_until=5)
    video = write_video(tmp_path / 'clip.avi', frames)
    out = tmp_path / 'out'
    records = mine_motion_masks(video, str(out), every=2)
    decoded = read_video(video)
    assert [r['frame'] for r in records] == [6, 8, 10]
    for rec in records:
        t = rec['frame']
        assert rec['video'] == video
        assert rec['img_path'] == f'clip/{t:06d}.jpg'
        assert rec['mask_path'] == osp.splitext(rec['img_path'])[0] + '.png'
        image = cv2.imread(str(out / 'frames' / rec['img_path']), cv2.IMREAD_UNCHANGED)
        mask = cv2.imread(str(out / 'masks' / rec['mask_path']), cv2.IMREAD_UNCHANGED)
        assert image.shape == (SIZE, SIZE, 3)
        # the JPEG is the decoded frame t (the patch where it was then), not t + step
        box = union_box(t, t + 1, still_until=5)
        error, error_next = (np.abs(image[box].astype(int) - decoded[i][box]).mean()
                             for i in (t, t + 1))
        assert 3 * error < error_next, (error, error_next)
        assert mask.shape == (SIZE, SIZE) and mask.dtype == np.uint8
        assert set(np.unique(mask)) == {0, 255}
        assert rec['fraction'] == pytest.approx((mask == 255).mean())
        assert iou(mask, box) >= 0.5
    assert sorted(p.name for p in (out / 'frames' / 'clip').iterdir()) == [
        '000006.jpg', '000008.jpg', '000010.jpg']  # no temporary file left
    # every frame dropped: too little or too much motion; max_side downscales the files
    assert mine_motion_masks(video, str(tmp_path / 'none'), every=2, min_fraction=0.001,
                             max_fraction=0.002) == []
    assert not (tmp_path / 'none').exists()
    small = mine_motion_masks(video, str(tmp_path / 'small'), every=3, step=2, max_side=48,
                              min_fraction=0.0)
    assert [r['frame'] for r in small] == [0, 3, 6, 9]
    assert cv2.imread(str(tmp_path / 'small' / 'masks' / small[0]['mask_path']),
                      cv2.IMREAD_UNCHANGED).shape == (48, 48)
    with pytest.raises(ValueError, match='every must be an integer >= 1, got 0'):
        mine_motion_masks(video, str(out), every=0)
    with pytest.raises(ValueError, match='min_fraction=0.6, max_fraction=0.5'):
        mine_motion_masks(video, str(out), min_fraction=0.6)


def test_cli_end_to_end(tmp_path, capsys):
    (tmp_path / 'videos' / 'sub').mkdir(parents=True)
    video = write_video(tmp_path / 'videos' / 'sub' / 'clip.avi', moving_frames(still_until=5))
    (tmp_path / 'videos' / 'notes.txt').write_text('not a video')
    out = tmp_path / 'out'
    main(['--videos', str(tmp_path / 'videos'), '--out', str(out), '--every', '2',
          '--min-flow', '1.0', '--rel-threshold', '3'])
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.endswith('1 videos, 3 frames kept, 3 frames dropped'), summary
    index = json.loads((out / 'motion_masks.json').read_text())
    assert index['args']['every'] == 2 and index['dropped'] == 3
    assert [r['frame'] for r in index['records']] == [6, 8, 10]
    for rec in index['records']:
        assert rec['video'] == video
        assert (out / 'frames' / rec['img_path']).is_file()
        assert (out / 'masks' / rec['mask_path']).is_file()
    with pytest.raises(SystemExit, match=r'out/frames is not empty'):  # no mixing of runs
        main(['--videos', str(tmp_path / 'videos'), '--out', str(out), '--every', '3'])
    # --gt-masks scores the mined masks against true ones: here the patch's union boxes
    for rec in index['records']:
        truth = np.zeros((SIZE, SIZE), np.uint8)
        truth[union_box(rec['frame'], rec['frame'] + 1, still_until=5)] = 255
        write_image(str(tmp_path / 'gt' / rec['mask_path']), truth)
    mined = [cv2.imread(str(out / 'masks' / r['mask_path']), 0) > 0 for r in index['records']]
    truths = [cv2.imread(str(tmp_path / 'gt' / r['mask_path']), 0) > 0
              for r in index['records']]
    expected = np.mean([(m & t).sum() / (m | t).sum() for m, t in zip(mined, truths)])
    main(['--videos', str(tmp_path / 'videos'), '--out', str(tmp_path / 'out2'), '--every',
          '2', '--gt-masks', str(tmp_path / 'gt')])
    score = capsys.readouterr().out.strip().splitlines()[-1]
    assert score.startswith(f"against {tmp_path / 'gt'}: mean IoU {expected:.3f}"), score
    with pytest.raises(FileNotFoundError, match='mask not found or not an image: .*000006.png'):
        main(['--videos', str(tmp_path / 'videos'), '--out', str(tmp_path / 'out3'),
              '--every', '2', '--gt-masks', str(tmp_path / 'nowhere')])


def test_cli_errors_name_the_culprit(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(['--videos', str(tmp_path / 'nowhere'), '--out', str(tmp_path / 'out')])
    assert 'nowhere' in capsys.readouterr().err
    (tmp_path / 'empty').mkdir()
    with pytest.raises(SystemExit, match='empty.*holds no video'):
        main(['--videos', str(tmp_path / 'empty'), '--out', str(tmp_path / 'out')])
    (tmp_path / 'bad').mkdir()
    (tmp_path / 'bad' / 'broken.avi').write_bytes(b'\x00garbage' * 100)
    with pytest.raises(SystemExit, match='broken.avi'):
        main(['--videos', str(tmp_path / 'bad'), '--out', str(tmp_path / 'out')])
    assert not (tmp_path / 'out' / 'motion_masks.json').exists()
    (tmp_path / 'bad' / 'sub').mkdir()
    (tmp_path / 'bad' / 'sub' / 'broken.mp4').write_bytes(b'')
    with pytest.raises(SystemExit, match=r'broken.avi and .*sub/broken.mp4 .*same folder'):
        main(['--videos', str(tmp_path / 'bad'), '--out', str(tmp_path / 'out')])
    with pytest.raises(SystemExit):
        main(['--videos', str(tmp_path / 'bad'), '--out', str(tmp_path / 'out'),
              '--min-fraction', '0.7'])
    assert '--min-fraction' in capsys.readouterr().err
