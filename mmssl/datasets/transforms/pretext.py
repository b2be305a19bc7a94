"""CPU transforms of the classic pretext tasks: rotations, grid patches, jigsaw, counting,
colorization and motion segmentation.

Each turns one decoded image (``results['img']``, H x W x C uint8) into a list of views
(what ``PackInputs`` packs as ``inputs``, a list of V tensors, like ``MultiView``) and,
for the classification tasks, the task's label in ``results['pretext_label']`` (an int64
array, one label per group of views the algorithm classifies). Pack it with
``dict(type='PackInputs', algorithm_keys=['pretext_label'])``: it then rides in every
data sample as ``data_sample.pretext_label``, apart from ``gt_label`` (which keeps the
dataset's class, for the online probe and kNN). Randomness comes from numpy's global
generator, which mmengine seeds per dataloader worker.
"""
import itertools
from typing import Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform, Compose
from mmpretrain.datasets.transforms import RandomResizedCrop

from mmssl.registry import TRANSFORMS

# The per-pixel target maps of the dense tasks (colorization, motion segmentation).
DENSE_LABELS = ('ab_label', 'motion_label')
# The 8 neighbours of the centre cell of a 3 x 3 grid, row-major: label k is NEIGHBOURS[k].
NEIGHBOURS = tuple((r, c) for r in range(3) for c in range(3) if (r, c) != (1, 1))


def grid_boxes(height: int, width: int, grid: int, patch: int, gap: int, jitter: int,
               rng=np.random) -> np.ndarray:
    """(grid * grid, 4) boxes [y, x, h, w] of a random grid of square patches, row-major.

    The grid (``grid`` cells a side, ``patch`` px patches, ``gap`` px between neighbouring
    cells) is placed at a random position in the image, then each patch moves by its own
    uniform jitter in [-jitter, jitter] on each axis. Patches stay inside the image and at
    least ``gap - 2 * jitter`` px apart.

    Raises:
        ValueError: if the jittered grid does not fit the image, or jitter > gap / 2.
    """
    if 2 * jitter > gap:
        raise ValueError(f'jitter {jitter} is over half the gap {gap}: patches could touch')
    extent = grid * patch + (grid - 1) * gap
    if extent + 2 * jitter > min(height, width):
        raise ValueError(
            f'a {grid}x{grid} grid of {patch}-px patches with {gap}-px gaps and {jitter}-px '
            f'jitter needs {extent + 2 * jitter} px a side; the image is {height}x{width}')
    oy = rng.randint(jitter, height - extent - jitter + 1)
    ox = rng.randint(jitter, width - extent - jitter + 1)
    cells = np.array([(r, c) for r in range(grid) for c in range(grid)])
    starts = np.array([oy, ox]) + cells * (patch + gap)
    starts = starts + rng.randint(-jitter, jitter + 1, size=starts.shape)
    sizes = np.full_like(starts, patch)
    return np.concatenate([starts, sizes], axis=1)


def _crop(img: np.ndarray, box: Sequence[int]) -> np.ndarray:
    y, x, h, w = (int(v) for v in box)
    return np.ascontiguousarray(img[y:y + h, x:x + w])


@TRANSFORMS.register_module()
class FourRotations(BaseTransform):
    """RotNet's views (Gidaris et al. 2018): the image rotated by 0, 90, 180 and 270 degrees.

    All four rotations of every image go in the same batch, as the paper found best.
    ``img`` becomes the list of the 4 rotations, in that order (counter-clockwise);
    ``pretext_label`` is [0, 1, 2, 3]. The image must be square so that the views stack.
    """

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.shape[0] != img.shape[1]:
            raise ValueError(f'FourRotations needs a square image (crop first), got '
                             f'{img.shape[0]}x{img.shape[1]}')
        results['img'] = [np.ascontiguousarray(np.rot90(img, k)) for k in range(4)]
        results['pretext_label'] = np.arange(4, dtype=np.int64)
        return results


@TRANSFORMS.register_module()
class RelativeLocPatches(BaseTransform):
    """Context prediction's pair of patches (Doersch et al. 2015).

    A 3 x 3 grid of ``patch`` px patches, ``gap`` px apart, each jittered by up to
    ``jitter`` px (:func:`grid_boxes`); ``img`` becomes [centre patch, neighbour patch]
    with the neighbour drawn at random among the 8, and ``pretext_label`` = [k], the
    neighbour's index in :data:`NEIGHBOURS` (row-major, the centre skipped).
    ``patch_boxes`` holds the two [y, x, h, w] boxes.
    """

    def __init__(self, patch: int, gap: int, jitter: int) -> None:
        self.patch, self.gap, self.jitter = patch, gap, jitter

    def transform(self, results: dict) -> dict:
        img = results['img']
        boxes = grid_boxes(img.shape[0], img.shape[1], 3, self.patch, self.gap, self.jitter)
        label = np.random.randint(8)
        r, c = NEIGHBOURS[label]
        pair = boxes[[4, 3 * r + c]]
        results['img'] = [_crop(img, box) for box in pair]
        results['pretext_label'] = np.array([label], dtype=np.int64)
        results['patch_boxes'] = pair
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(patch={self.patch}, gap={self.gap}, '
                f'jitter={self.jitter})')


def max_hamming_permutations(num: int, num_tiles: int = 9, seed: int = 0) -> np.ndarray:
    """(num, num_tiles) permutations chosen greedily for maximal minimal Hamming distance.

    Noroozi & Favaro's selection with the minimum instead of the average: start from a
    random permutation, then repeatedly add the permutation whose smallest Hamming
    distance to those chosen so far is largest (ties: the first in lexicographic order
    among the tied, after a seeded shuffle of all permutations). All ``num_tiles!``
    permutations are enumerated, so ``num_tiles`` up to 10 is practical.

    Raises:
        ValueError: if ``num`` exceeds the number of permutations.
    """
    candidates = np.array(list(itertools.permutations(range(num_tiles))), dtype=np.int8)
    if not 1 <= num <= len(candidates):
        raise ValueError(f'cannot choose {num} of the {len(candidates)} permutations of '
                         f'{num_tiles} tiles')
    rng = np.random.default_rng(seed)
    candidates = candidates[rng.permutation(len(candidates))]
    chosen = [0]
    min_dist = (candidates != candidates[0]).sum(axis=1)
    for _ in range(num - 1):
        best = int(np.argmax(min_dist))
        chosen.append(best)
        min_dist = np.minimum(min_dist, (candidates != candidates[best]).sum(axis=1))
    return candidates[chosen].astype(np.int64)


def load_permutations(path: str) -> np.ndarray:
    """(P, T) int64 permutations from a ``.npy`` file of ``max_hamming_permutations``.

    Raises:
        ValueError: naming the file, if a row is not a permutation of 0..T-1 or rows repeat.
    """
    perms = np.load(path)
    if perms.ndim != 2 or not np.array_equal(np.sort(perms, axis=1),
                                             np.broadcast_to(np.arange(perms.shape[1]),
                                                             perms.shape)):
        raise ValueError(f'{path}: expected (P, T) rows that are permutations of 0..T-1, '
                         f'got shape {perms.shape}')
    if len(np.unique(perms, axis=0)) != len(perms):
        raise ValueError(f'{path}: permutations repeat')
    return perms.astype(np.int64)


@TRANSFORMS.register_module()
class JigsawTiles(BaseTransform):
    """The jigsaw puzzle's shuffled tiles (Noroozi & Favaro 2016).

    A 3 x 3 grid of ``tile`` px tiles, ``gap`` px apart, each jittered by up to ``jitter``
    px (:func:`grid_boxes`; the paper's 64-px tiles in 75-px cells are tile 64, gap 11,
    jitter 5). One permutation p of the set in ``permutations`` (a ``.npy`` file written
    by ``tools/analysis/jigsaw_permutations.py``) is drawn: view k is the tile at grid
    position p[k], and ``pretext_label`` = [index of p]. ``patch_boxes`` holds the 9 boxes
    in view order.
    """

    def __init__(self, permutations: str, tile: int, gap: int, jitter: int) -> None:
        self.permutations_file = permutations
        self.permutations = load_permutations(permutations)
        if self.permutations.shape[1] != 9:
            raise ValueError(f'{permutations}: jigsaw permutations must have 9 entries, '
                             f'got {self.permutations.shape[1]}')
        self.tile, self.gap, self.jitter = tile, gap, jitter

    def transform(self, results: dict) -> dict:
        img = results['img']
        boxes = grid_boxes(img.shape[0], img.shape[1], 3, self.tile, self.gap, self.jitter)
        index = np.random.randint(len(self.permutations))
        boxes = boxes[self.permutations[index]]
        results['img'] = [_crop(img, box) for box in boxes]
        results['pretext_label'] = np.array([index], dtype=np.int64)
        results['patch_boxes'] = boxes
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(permutations={self.permutations_file!r}, '
                f'tile={self.tile}, gap={self.gap}, jitter={self.jitter})')


# The downsampling filters of the counting task (Noroozi et al. 2017), by name.
INTERPOLATIONS = dict(bilinear=cv2.INTER_LINEAR, bicubic=cv2.INTER_CUBIC,
                      area=cv2.INTER_AREA, nearest=cv2.INTER_NEAREST,
                      lanczos=cv2.INTER_LANCZOS4)


@TRANSFORMS.register_module()
class CountingViews(BaseTransform):
    """The five views of learning to count (Noroozi, Pirsiavash & Favaro 2017).

    ``img`` (H x W, both even) becomes [D(x), T_1(x), T_2(x), T_3(x), T_4(x)]: the image
    downsampled 2x with a filter drawn at random from ``interpolations`` (names of
    :data:`INTERPOLATIONS`), then the four H/2 x W/2 quarter tiles, row-major (top-left,
    top-right, bottom-left, bottom-right). With probability ``grayscale_prob`` the whole
    image is made grey (BT.601 luma, repeated over the channels) before both, so that the
    five views of an image stay comparable; the random filter and grey keep the network
    from telling tiles from downsampled images by low-level cues. ``interpolation``
    records the filter's name.
    """

    def __init__(self, interpolations: Sequence[str] = tuple(INTERPOLATIONS),
                 grayscale_prob: float = 0.5) -> None:
        unknown = set(interpolations) - set(INTERPOLATIONS)
        if unknown or not interpolations:
            raise ValueError(f'unknown interpolations {sorted(unknown)}; choose among '
                             f'{list(INTERPOLATIONS)}')
        self.interpolations = list(interpolations)
        self.grayscale_prob = grayscale_prob

    @staticmethod
    def to_gray(img: np.ndarray) -> np.ndarray:
        """H x W x C (RGB or BGR as decoded: only the luma weights' order differs; BGR
        assumed, as OpenCV decodes) -> the same shape, grey in every channel."""
        if img.ndim == 2 or img.shape[2] == 1:
            return img
        luma = img[..., :3].astype(np.float32) @ np.array([0.114, 0.587, 0.299], np.float32)
        grey = np.clip(np.rint(luma), 0, 255).astype(img.dtype)
        return np.repeat(grey[..., None], img.shape[2], axis=2)

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        if h % 2 or w % 2:
            raise ValueError(f'CountingViews needs an even height and width, got {h}x{w}')
        if np.random.rand() < self.grayscale_prob:
            img = self.to_gray(img)
        name = self.interpolations[np.random.randint(len(self.interpolations))]
        down = cv2.resize(img, (w // 2, h // 2), interpolation=INTERPOLATIONS[name])
        if down.ndim < img.ndim:  # cv2 drops a single channel
            down = down[..., None]
        tiles = [_crop(img, (y, x, h // 2, w // 2)) for y in (0, h // 2) for x in (0, w // 2)]
        results['img'] = [down] + tiles
        results['interpolation'] = name
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(interpolations={self.interpolations}, '
                f'grayscale_prob={self.grayscale_prob})')


@TRANSFORMS.register_module()
class MultiTaskViews(BaseTransform):
    """Every task's views of one image, for multi-task training on one loader.

    ``tasks`` maps each task's name to its pipeline (a list of transform configs ending in
    the task's view transform, e.g. ``[dict(type='FourRotations')]``). Each pipeline runs on
    its own copy of the results; ``img`` becomes the concatenation of the tasks' view
    lists, in the order of ``tasks``, ``task_views`` maps each name to its count of views,
    and ``pretext_label`` maps each name to its labels (tasks without labels, such as
    counting, are left out); a colorization task's ``ab_label`` and a motion segmentation
    task's ``motion_label`` are kept as they are. Pack with
    ``PackInputs(algorithm_keys=['pretext_label'])`` (and ``'ab_label'``,
    ``'motion_label'`` with those tasks).
    """

    def __init__(self, tasks: dict) -> None:
        if not tasks:
            raise ValueError('MultiTaskViews needs at least one task')
        self.tasks = {name: Compose([TRANSFORMS.build(t) if isinstance(t, dict) else t
                                     for t in pipeline])
                      for name, pipeline in tasks.items()}

    def transform(self, results: dict) -> dict:
        views, counts, labels = [], {}, {}
        for name, pipeline in self.tasks.items():
            out = pipeline(dict(results, img=results['img'].copy()))
            task_views = out['img'] if isinstance(out['img'], list) else [out['img']]
            views.extend(task_views)
            counts[name] = len(task_views)
            if 'pretext_label' in out:
                labels[name] = out['pretext_label']
            for key in DENSE_LABELS:  # a colorization or motion task's target map
                if key in out:
                    results[key] = out[key]
        results['img'] = views
        results['task_views'] = counts
        results['pretext_label'] = labels
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(tasks={list(self.tasks)})'


def lab_from_bgr(img: np.ndarray) -> np.ndarray:
    """H x W x 3 uint8 BGR (as OpenCV decodes) -> float32 CIE Lab (L in [0, 100])."""
    return cv2.cvtColor(img.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab)


def lightness_image(lab: np.ndarray) -> np.ndarray:
    """H x W x 3 Lab (from :func:`lab_from_bgr`) -> H x W x 3 uint8: L scaled to 0..255,
    the same value in every channel (colorization's input)."""
    light = np.clip(np.rint(lab[..., 0] * 2.55), 0, 255).astype(np.uint8)
    return np.repeat(light[..., None], 3, axis=2)


@TRANSFORMS.register_module()
class Lightness(BaseTransform):
    """``img`` (BGR) -> its Lab lightness, scaled to 0..255 and repeated over 3 channels:
    exactly the input :class:`ColorizationViews` gives colorization.

    The input harmonisation of multi-task self-supervision (Doersch & Zisserman 2017):
    relative position's patches are prepared as colorization's input (Lab, ab dropped)
    instead of by colour dropping, so both tasks train the trunk on the same kind of image.
    Put it before the task's patch or view transform.
    """

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f'Lightness needs a 3-channel image, got {img.shape}')
        results['img'] = lightness_image(lab_from_bgr(img))
        return results


def quantize_ab(ab: np.ndarray, grid: int = 10, ab_range: float = 110.0) -> np.ndarray:
    """(..., 2) ab values -> (...) int64 bin indices on a uniform ``grid``-spaced ab grid.

    The grid covers [-ab_range, ab_range) on each axis: ``2 * ab_range / grid`` bins a side
    (22 with the defaults, 484 in all; Zhang et al.'s 313 are the in-gamut ones among
    them). Bin index = a_bin * bins_per_side + b_bin; values outside are clipped.
    """
    side = int(round(2 * ab_range / grid))
    bins = np.clip(np.floor((ab + ab_range) / grid).astype(np.int64), 0, side - 1)
    return bins[..., 0] * side + bins[..., 1]


@TRANSFORMS.register_module()
class ColorizationViews(BaseTransform):
    """Colorization's input and target (Zhang, Isola & Efros 2016).

    ``img`` (BGR, as decoded) becomes [its lightness L], scaled to 0..255 and repeated
    over 3 channels (one view, so the data preprocessor normalises it like any image);
    ``ab_label`` is the target: the image's ab channels resized (area) to
    ``target_size`` x ``target_size`` and quantised by :func:`quantize_ab` (int64).
    Pack with ``PackInputs(algorithm_keys=['ab_label'])``.
    """

    def __init__(self, target_size: int, grid: int = 10, ab_range: float = 110.0) -> None:
        self.target_size, self.grid, self.ab_range = target_size, grid, ab_range

    @property
    def num_bins(self) -> int:
        return int(round(2 * self.ab_range / self.grid)) ** 2

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f'ColorizationViews needs a 3-channel image, got {img.shape}')
        lab = lab_from_bgr(img)
        results['img'] = [lightness_image(lab)]
        ab = cv2.resize(lab[..., 1:], (self.target_size, self.target_size),
                        interpolation=cv2.INTER_AREA)
        results['ab_label'] = quantize_ab(ab, self.grid, self.ab_range)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(target_size={self.target_size}, grid={self.grid}, '
                f'ab_range={self.ab_range})')


@TRANSFORMS.register_module()
class MotionSegmentationViews(BaseTransform):
    """Motion segmentation's input and target (Pathak et al. 2017).

    One random resized crop (mmpretrain's ``RandomResizedCrop`` sampling) and one random
    horizontal flip are applied to the frame ``img`` and its motion mask ``gt_motion``
    ((H, W) 0/1, from ``LoadMotionMask``) together: ``img`` becomes [the view] (``scale`` x
    ``scale``, bilinear) and ``motion_label`` the mask's crop at ``target_size`` x
    ``target_size`` (int64: 1 where more than half of a cell moves, area-averaged). A
    sample without ``gt_motion`` (a still image) gets ``ignore_index`` at every pixel.
    Pack with ``PackInputs(algorithm_keys=['motion_label'])``.

    Args:
        scale: the view's side.
        target_size: the label map's side.
        crop_ratio_range: the crop's area range, a fraction of the frame's.
        aspect_ratio_range: the crop's aspect range.
        flip_prob: the probability of the horizontal flip.
        ignore_index: the label of unknown pixels.
    """

    def __init__(self, scale: int, target_size: int,
                 crop_ratio_range: tuple[float, float] = (0.2, 1.0),
                 aspect_ratio_range: tuple[float, float] = (3 / 4, 4 / 3),
                 flip_prob: float = 0.5, ignore_index: int = 255) -> None:
        self.crop = RandomResizedCrop(scale, crop_ratio_range=crop_ratio_range,
                                      aspect_ratio_range=aspect_ratio_range)
        self.scale, self.target_size = scale, target_size
        self.flip_prob, self.ignore_index = flip_prob, ignore_index

    def transform(self, results: dict) -> dict:
        img, mask = results['img'], results.get('gt_motion')
        top, left, height, width = self.crop.rand_crop_params(img)
        flip = np.random.rand() < self.flip_prob
        view = cv2.resize(img[top:top + height, left:left + width], (self.scale, self.scale),
                          interpolation=cv2.INTER_LINEAR)
        size = (self.target_size, self.target_size)
        if mask is None:
            label = np.full(size, self.ignore_index, dtype=np.int64)
        else:
            if mask.shape != img.shape[:2]:
                raise ValueError(f'MotionSegmentationViews: gt_motion is {mask.shape}, the '
                                 f"image {img.shape[:2]} ({results.get('img_path')})")
            moving = cv2.resize(mask[top:top + height, left:left + width].astype(np.float32),
                                size, interpolation=cv2.INTER_AREA)
            label = (moving > 0.5).astype(np.int64)
        if flip:
            view, label = view[:, ::-1].copy(), label[:, ::-1].copy()
        results['img'] = [view]
        results['motion_label'] = label
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(scale={self.scale}, target_size={self.target_size}, '
                f'crop_ratio_range={self.crop.crop_ratio_range}, flip_prob={self.flip_prob})')
