"""Make demo videos of a real object moving over a real photo, with the true masks.

    python tools/dataset_converters/make_moving_object_videos.py --out DIR
        [--ann FILE] [--images DIR] [--num-videos 12] [--frames 16] [--size 128]
        [--pan 0] [--fps 10] [--seed 0]

Motion segmentation pretraining (Pathak et al. 2017) learns from the masks of moving
objects mined from videos (``mine_motion_masks.py``); with no video dataset on disk, this
tool makes small ones from photos with COCO polygon annotations (by default Debian's
``labelme-examples``, read where apt put it: nothing of it is copied into the repository).

``--ann`` is a COCO instance file (default: the package's), ``--images`` the folder its
``file_name`` entries are relative to (default: the folder of ``--ann``; a name is also
looked up by its base name alone). Instances with an RLE mask, ``iscrowd`` or a mask under
1 % of their photo are skipped. Each video (instances taken in a seeded random order):

- the background is a random square crop of a photo (another photo than the object's when
  there are several) resized to ``--size``; with ``--pan V`` the crop window moves over a
  larger resize of it by V pixels a frame (sub-pixel, random direction: a camera pan);
- the object is one instance cut out with its mask (bounding box crop), scaled so that its
  longer side is 0.25-0.45 of the frame and alpha-composited at a position moving by a
  random 2-4 pixels a frame in a random direction; its start is drawn so that the whole
  straight path stays inside the frame, or, where it cannot, it bounces off the border
  (a velocity component flips before a step that would leave the frame: every step keeps
  the speed).

Writes ``OUT/videos/video_XXX.avi`` (MJPG) and the true mask of each frame,
``OUT/gt_masks/video_XXX/<t:06d>.png`` (0/255, one channel: where the object's alpha is at
least 0.5), against which mined masks (``OUT/masks/<video stem>/<t:06d>.png`` of
``mine_motion_masks.py``) can be scored.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Optional, Union

import cv2
import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmssl.mining.video import write_image  # noqa: E402

PACKAGE_DIR = '/usr/share/doc/labelme-examples/examples/instance_segmentation/data_dataset_coco'
SPEED = (2.0, 4.0)  # object pixels per frame
SCALE = (0.25, 0.45)  # object longer side / frame side
MIN_AREA = 0.01  # of the photo


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Make videos of an annotated object moving '
                                     'over a photo, with the true masks')
    parser.add_argument('--ann', default=osp.join(PACKAGE_DIR, 'annotations.json'),
                        help='COCO instance file with polygon segmentations (default: '
                        "Debian's labelme-examples)")
    parser.add_argument('--images', help='folder the file names of --ann are relative to '
                        '(default: the folder of --ann)')
    parser.add_argument('--out', required=True, help='output folder (videos/, gt_masks/)')
    parser.add_argument('--num-videos', type=int, default=12, help='videos to make')
    parser.add_argument('--frames', type=int, default=16, help='frames per video')
    parser.add_argument('--size', type=int, default=128, help='frame side in pixels')
    parser.add_argument('--pan', type=float, default=0.0,
                        help='background (camera pan) pixels per frame')
    parser.add_argument('--fps', type=float, default=10.0, help='frame rate of the videos')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    args = parser.parse_args(argv)
    if not osp.isfile(args.ann):
        parser.error(f'--ann {args.ann!r}: annotation file not found')
    if args.images is None:
        args.images = osp.dirname(osp.abspath(args.ann))
    elif not osp.isdir(args.images):
        parser.error(f'--images {args.images!r} is not a folder')
    for flag, low in (('num_videos', 1), ('frames', 2), ('size', 16)):
        value = getattr(args, flag)
        if value < low:
            parser.error(f"--{flag.replace('_', '-')} must be >= {low}, got {value}")
    if not (args.pan >= 0 and args.fps > 0):
        parser.error(f'--pan must be >= 0 and --fps > 0, got {args.pan} and {args.fps}')
    return args


def read_coco(ann_file: str) -> dict:
    """The COCO dict of ``ann_file`` (``images`` and ``annotations`` checked)."""
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'annotation file {ann_file!r} not found')
    with open(ann_file) as f:
        coco = json.load(f)
    if not isinstance(coco, dict) or 'images' not in coco or 'annotations' not in coco:
        raise ValueError(f'{ann_file!r} is not a COCO instance file (no images/annotations)')
    return coco


def load_photos(coco: dict, images_dir: str) -> dict[int, np.ndarray]:
    """Image id -> (H, W, 3) uint8 BGR photo, for every image of ``coco``.

    ``file_name`` is looked up in ``images_dir`` (absolute names as they are), then by its
    base name alone.
    """
    photos = {}
    for info in coco['images']:
        name = info['file_name']
        tried = [osp.join(images_dir, name), osp.join(images_dir, osp.basename(name))]
        path = next((p for p in tried if osp.isfile(p)), None)
        if path is None:
            raise FileNotFoundError(f"image {name!r} of the annotation file not found in "
                                    f"--images {images_dir!r} (tried {tried})")
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f'image {path!r} could not be decoded')
        photos[info['id']] = img
    return photos


def polygon_mask(segmentation: list, height: int, width: int) -> np.ndarray:
    """(H, W) bool mask of a COCO polygon list ``[[x1, y1, x2, y2, ...], ...]`` (union)."""
    mask = np.zeros((height, width), np.uint8)
    for poly in segmentation:
        points = np.round(np.asarray(poly, np.float64).reshape(-1, 2)).astype(np.int32)
        if len(points) >= 3:
            cv2.fillPoly(mask, [points], 1)
    return mask.astype(bool)


def instance_masks(coco: Union[dict, str], photos: dict[int, np.ndarray],
                   min_area: float = MIN_AREA) -> list[tuple[int, np.ndarray]]:
    """(image id, (H, W) bool mask) of every usable instance of ``coco`` (a dict or file).

    Usable: a polygon segmentation (not RLE), not ``iscrowd``, of its image in ``photos``,
    covering at least ``min_area`` of the photo (the mask is rasterised at the photo's
    decoded size).
    """
    if isinstance(coco, str):
        coco = read_coco(coco)
    found = []
    for ann in coco['annotations']:
        seg = ann.get('segmentation')
        if ann.get('iscrowd', 0) or not isinstance(seg, list) or not seg:
            continue
        photo = photos.get(ann['image_id'])
        if photo is None:
            continue
        mask = polygon_mask(seg, *photo.shape[:2])
        if mask.mean() >= min_area:
            found.append((ann['image_id'], mask))
    return found


def cut_out(img: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The bounding box crops ((h, w, 3) uint8, (h, w) bool) of the object ``mask`` of
    ``img`` ((H, W, 3), (H, W))."""
    ys, xs = np.nonzero(mask)
    if not len(ys):
        raise ValueError('empty object mask')
    box = np.s_[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    return img[box], mask[box]


def _background_frames(photo: np.ndarray, frames: int, size: int, rng: np.random.Generator,
                       pan: float) -> list[np.ndarray]:
    """``frames`` (size, size, 3) uint8 views of a random square crop of ``photo``, the
    view moving by ``pan`` pixels a frame in a random direction."""
    travel = pan * (frames - 1)
    canvas = size + (int(np.ceil(travel)) + 2 if pan > 0 else 0)
    height, width = photo.shape[:2]
    side = max(1, int(round(rng.uniform(0.6, 1.0) * min(height, width))))
    y0 = int(rng.integers(0, height - side + 1))
    x0 = int(rng.integers(0, width - side + 1))
    crop = photo[y0:y0 + side, x0:x0 + side]
    interp = cv2.INTER_AREA if side > canvas else cv2.INTER_LINEAR
    big = cv2.resize(crop, (canvas, canvas), interpolation=interp)
    if pan <= 0:
        return [big.copy() for _ in range(frames)]
    angle = rng.uniform(0, 2 * np.pi)
    velocity = pan * np.array([np.cos(angle), np.sin(angle)])  # x, y
    start = 1 + np.maximum(0.0, -velocity * (frames - 1))  # top-left, path inside canvas
    half = (size - 1) / 2
    big = big.astype(np.float32)  # getRectSubPix of uint8 rounds the shift coarsely
    return [np.round(cv2.getRectSubPix(big, (size, size),
                                       tuple(float(c) for c in start + t * velocity + half)))
            .astype(np.uint8) for t in range(frames)]


def _object_path(frames: int, free: np.ndarray, rng: np.random.Generator,
                 speed: tuple[float, float]) -> np.ndarray:
    """(frames, 2) top-left x, y of an object free to be in [0, free] (x, y): a straight
    path at a random speed in ``speed`` and direction, bouncing where it cannot fit."""
    norm = rng.uniform(*speed)
    angle = rng.uniform(0, 2 * np.pi)
    velocity = norm * np.array([np.cos(angle), np.sin(angle)])
    travel = np.abs(velocity) * (frames - 1)
    start = np.empty(2)
    for k in range(2):
        if travel[k] <= free[k]:  # the straight path fits
            low = max(0.0, -velocity[k] * (frames - 1))
            start[k] = low + rng.uniform(0, free[k] - travel[k])
        else:
            start[k] = rng.uniform(0, free[k])
    path = [start]
    for _ in range(frames - 1):
        pos = path[-1]
        for k in range(2):
            if not -1e-9 <= pos[k] + velocity[k] <= free[k] + 1e-9:
                velocity[k] = -velocity[k]  # bounce before the step
        path.append(np.clip(pos + velocity, 0, free))  # clip: only if free < speed
    return np.stack(path)


def make_video(background: np.ndarray, obj: np.ndarray, obj_mask: np.ndarray, frames: int,
               size: int, rng: np.random.Generator, pan: float = 0.0,
               speed: tuple[float, float] = SPEED, scale: tuple[float, float] = SCALE
               ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """One video of ``obj`` moving over ``background`` (see the module docstring).

    Args:
        background: (H, W, 3) uint8 photo, a random square crop of which is the scene.
        obj: (h, w, 3) uint8 object crop; obj_mask: its (h, w) bool (or 0-1) mask.
        frames, size: T frames of size x size pixels.
        rng: the random generator (crop, object scale, start, velocity, pan direction).
        pan: background pixels per frame (0: a static camera).
        speed: object pixels per frame (min, max); scale: the object's longer side over
            ``size`` (min, max).

    Returns:
        T (size, size, 3) uint8 BGR frames and T (size, size) uint8 masks (0/255: the
        object's alpha >= 0.5).
    """
    if obj.shape[:2] != obj_mask.shape[:2] or obj.ndim != 3:
        raise ValueError(f'obj {obj.shape} and obj_mask {obj_mask.shape} do not match')
    backgrounds = _background_frames(background, frames, size, rng, pan)
    h, w = obj.shape[:2]
    factor = rng.uniform(*scale) * size / max(h, w)
    new_w, new_h = max(1, int(round(w * factor))), max(1, int(round(h * factor)))
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    alpha = obj_mask.astype(np.float32)
    premult = obj.astype(np.float32) * alpha[..., None]  # no halo of the object's photo
    alpha = np.clip(cv2.resize(alpha, (new_w, new_h), interpolation=interp), 0, 1)
    premult = cv2.resize(premult, (new_w, new_h), interpolation=interp)
    path = _object_path(frames, np.array([size - new_w, size - new_h], float), rng, speed)
    out_frames, out_masks = [], []
    for bg, (x, y) in zip(backgrounds, path):
        shift = np.float32([[1, 0, x], [0, 1, y]])  # sub-pixel placement
        a = cv2.warpAffine(alpha, shift, (size, size), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        fg = cv2.warpAffine(premult, shift, (size, size), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        frame = fg + (1 - a[..., None]) * bg.astype(np.float32)
        out_frames.append(np.clip(np.round(frame), 0, 255).astype(np.uint8))
        out_masks.append(np.where(a >= 0.5, 255, 0).astype(np.uint8))
    return out_frames, out_masks


def write_video(path: str, frames: list[np.ndarray], fps: float = 10.0) -> None:
    """Write (H, W, 3) uint8 BGR ``frames`` to ``path`` as MJPG."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f'cv2.VideoWriter could not open {path!r} for MJPG: is OpenCV '
                           'built with a video backend, is the folder writable?')
    try:
        for frame in frames:
            writer.write(frame)
    finally:
        writer.release()


def make_videos(args: argparse.Namespace) -> dict:
    """Write the videos and masks of ``args``; returns counts for the summary."""
    coco = read_coco(args.ann)
    photos = load_photos(coco, args.images)
    instances = instance_masks(coco, photos)
    if not instances:
        raise ValueError(f'{args.ann!r}: no usable instance (a polygon, not iscrowd, of at '
                         f'least {MIN_AREA:.0%} of its image)')
    rng = np.random.default_rng(args.seed)
    ids = sorted(photos)
    order = []
    os.makedirs(osp.join(args.out, 'videos'), exist_ok=True)
    for num in range(args.num_videos):
        if not order:
            order = list(rng.permutation(len(instances)))
        image_id, mask = instances[order.pop(0)]
        others = [i for i in ids if i != image_id] or ids
        background = photos[others[int(rng.integers(len(others)))]]
        obj, obj_mask = cut_out(photos[image_id], mask)
        frames, masks = make_video(background, obj, obj_mask, args.frames, args.size, rng,
                                   args.pan)
        name = f'video_{num:03d}'
        write_video(osp.join(args.out, 'videos', f'{name}.avi'), frames, args.fps)
        for t, mask in enumerate(masks):
            write_image(osp.join(args.out, 'gt_masks', name, f'{t:06d}.png'), mask)
    return dict(videos=args.num_videos, instances=len(instances), photos=len(photos))


def main(argv: Optional[list] = None) -> None:
    args = parse_args(argv)
    counts = make_videos(args)
    print(f"wrote {counts['videos']} videos of {args.frames} frames, {args.size}x{args.size}"
          f", pan {args.pan:g} px/frame, from {counts['instances']} instances in "
          f"{counts['photos']} photos: {osp.join(args.out, 'videos')}, "
          f"{osp.join(args.out, 'gt_masks')}")


if __name__ == '__main__':
    main()
