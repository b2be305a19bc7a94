"""Patches as boxes and crops: boxes around tracked points, grids over still images,
and raw-pixel features of the crops (a stand-in for learnt ones).

Boxes are ``[x0, y0, x1, y1]`` in pixels, x1 / y1 exclusive; crops are (h, w, 3) uint8
BGR arrays.
"""
from typing import Optional, Sequence

import cv2
import numpy as np


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
