"""Foreground masks of moving objects mined from videos (motion segmentation targets).

Pathak et al. (CVPR 2017, "Learning features by watching objects move") segment the
moving objects of unlabelled videos without supervision and train a network to predict
these masks from a single frame; Doersch & Zisserman (ICCV 2017) use the task in their
multi-task self-supervision. This module is the video side, a light stand-in for their
uNLC segmentation:

- :func:`motion_mask`: dense Farneback optical flow between a frame and a later one; the
  median flow vector of the frame is subtracted (a crude compensation of camera motion /
  global translation); pixels whose residual motion exceeds
  ``max(min_flow, rel_threshold * median residual)`` are foreground, cleaned by a
  morphological opening then closing.
- :func:`mine_frame_masks` / :func:`mine_motion_masks`: a mask every ``every`` frames of
  a video; frames with too little or too much foreground are dropped (as Pathak et al.
  drop frames without motion or with motion everywhere); each kept frame is written as
  ``frames/<name>/<t:06d>.jpg`` and its mask (0/255, one channel) as
  ``masks/<name>/<t:06d>.png`` under the output folder: the same relative path but the
  extension.
"""
import os.path as osp
from pathlib import Path
from typing import Optional, Sequence

import cv2
import numpy as np

from .video import read_video, write_image

# Farneback settings. A smaller window than OpenCV's usual 15 x 15 box, and Gaussian
# weighted, keeps the flow of a textured object from bleeding far into a flat background
# (the mask would grow by about half the window around the object).
FARNEBACK = dict(pyr_scale=0.5, levels=3, winsize=11, iterations=3, poly_n=5,
                 poly_sigma=1.1, flags=cv2.OPTFLOW_FARNEBACK_GAUSSIAN)
# OpenCV's Farneback down-weights the constraints of the outermost 5 pixels
# (FarnebackUpdateMatrices), which shrinks the flow there: under a camera pan the frame's
# border would look like it moves against the background. Its flow is replaced by that
# of the nearest pixel inside.
FLOW_BORDER = 5
JPEG_QUALITY = 95


def _check_frame(frame: np.ndarray, name: str) -> None:
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f'{name} must be an (H, W, 3) BGR array, got '
                         f'{getattr(frame, "shape", type(frame).__name__)}')
    if frame.dtype != np.uint8:
        raise ValueError(f'{name} must be uint8, got {frame.dtype}')


def motion_mask(frame: np.ndarray, next_frame: np.ndarray, min_flow: float = 1.0,
                rel_threshold: float = 3.0, open_size: int = 3) -> np.ndarray:
    """The (H, W) uint8 mask (0/1) of what moves between two frames, camera motion aside.

    Args:
        frame, next_frame: (H, W, 3) uint8 BGR frames of the same size.
        min_flow: pixels moving by at most this many pixels (after compensation) are
            background.
        rel_threshold: ... and so are those moving by at most this times the median
            compensated motion of the frame (a noise level).
        open_size: the side of the elliptic kernel of the opening then closing that
            clean the mask; 0 skips the cleaning.

    The flow (:data:`FARNEBACK`) is computed on the grey frames, that of the outermost
    :data:`FLOW_BORDER` pixels copied from the nearest pixel inside; its median (u, v)
    over the frame is subtracted before taking the per-pixel magnitude.

    Raises:
        ValueError: naming the argument at fault.
    """
    _check_frame(frame, 'frame')
    _check_frame(next_frame, 'next_frame')
    if frame.shape != next_frame.shape:
        raise ValueError(f'frame {frame.shape} and next_frame {next_frame.shape} differ '
                         f'in size')
    if min_flow < 0 or rel_threshold < 0:
        raise ValueError(f'min_flow ({min_flow}) and rel_threshold ({rel_threshold}) '
                         f'must be >= 0')
    if int(open_size) != open_size or open_size < 0:
        raise ValueError(f'open_size must be an integer >= 0, got {open_size}')
    grey0 = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    grey1 = cv2.cvtColor(next_frame, cv2.COLOR_BGR2GRAY)
    flow = cv2.calcOpticalFlowFarneback(grey0, grey1, None, **FARNEBACK)
    b = FLOW_BORDER
    if min(flow.shape[:2]) > 2 * b:
        flow = cv2.copyMakeBorder(np.ascontiguousarray(flow[b:-b, b:-b]), b, b, b, b,
                                  cv2.BORDER_REPLICATE)
    residual = flow - np.median(flow.reshape(-1, 2), axis=0)
    magnitude = np.linalg.norm(residual, axis=2)
    threshold = max(min_flow, rel_threshold * float(np.median(magnitude)))
    mask = (magnitude > threshold).astype(np.uint8)
    if open_size:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(open_size),) * 2)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)
    return mask


def _check_mining_args(every: int, step: int, min_fraction: float,
                       max_fraction: float) -> None:
    for name, value in (('every', every), ('step', step)):
        if int(value) != value or value < 1:
            raise ValueError(f'{name} must be an integer >= 1, got {value}')
    if not 0 <= min_fraction <= max_fraction <= 1:
        raise ValueError(f'need 0 <= min_fraction <= max_fraction <= 1, got '
                         f'min_fraction={min_fraction}, max_fraction={max_fraction}')


def mine_frame_masks(frames: Sequence[np.ndarray], out_dir: str, name: str, every: int = 5,
                     step: int = 1, min_fraction: float = 0.01, max_fraction: float = 0.5,
                     video: Optional[str] = None, **mask_kwargs) -> tuple[list[dict], int]:
    """Mine and write the motion masks of decoded frames (see :func:`mine_motion_masks`).

    Args:
        frames: (H, W, 3) uint8 BGR frames of one video.
        name: the subfolder of ``out_dir/frames`` and ``out_dir/masks`` to write to.
        video: the ``video`` of the records (default: ``name``).

    Returns:
        The records of the kept frames, and the number of frames dropped.
    """
    _check_mining_args(every, step, min_fraction, max_fraction)
    if not name or osp.isabs(name):
        raise ValueError(f'name must be a relative folder name, got {name!r}')
    records, dropped = [], 0
    for t in range(0, len(frames) - step, every):
        mask = motion_mask(frames[t], frames[t + step], **mask_kwargs)
        fraction = float(mask.mean())
        if not min_fraction <= fraction <= max_fraction:
            dropped += 1
            continue
        img_path = f'{name}/{t:06d}.jpg'
        mask_path = f'{name}/{t:06d}.png'
        write_image(osp.join(out_dir, 'frames', img_path), frames[t],
                    (cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY))
        write_image(osp.join(out_dir, 'masks', mask_path), mask * np.uint8(255))
        records.append(dict(video=name if video is None else video, frame=t,
                            img_path=img_path, mask_path=mask_path, fraction=fraction))
    return records, dropped


def mine_motion_masks(video_path: str, out_dir: str, every: int = 5, step: int = 1,
                      max_side: Optional[int] = None, max_frames: Optional[int] = None,
                      min_fraction: float = 0.01, max_fraction: float = 0.5,
                      **mask_kwargs) -> list[dict]:
    """Motion masks of a video, written beside its frames under ``out_dir``.

    For t = 0, every, 2 * every, ... (while frame t + step exists) the mask is
    ``motion_mask(frames[t], frames[t + step], **mask_kwargs)``; a frame is kept if the
    fraction of foreground pixels is in [min_fraction, max_fraction]. The frame is
    written to ``out_dir/frames/<stem>/<t:06d>.jpg`` and its mask (0/255, one channel)
    to ``out_dir/masks/<stem>/<t:06d>.png``, ``<stem>`` the video's file name without
    extension. Frames are decoded by :func:`read_video` (``max_frames``, ``max_side``).

    Returns:
        One dict per kept frame: ``video`` (``video_path``), ``frame`` (t), ``img_path``
        (relative to ``out_dir/frames``), ``mask_path`` (relative to ``out_dir/masks``)
        and ``fraction`` (of foreground pixels).

    Raises:
        FileNotFoundError, ValueError: naming ``video_path``, if it cannot be decoded.
        OSError: naming the file, if an image cannot be written.
    """
    _check_mining_args(every, step, min_fraction, max_fraction)
    frames = read_video(video_path, max_frames=max_frames, max_side=max_side)
    records, _ = mine_frame_masks(frames, out_dir, Path(video_path).stem, every=every,
                                  step=step, min_fraction=min_fraction,
                                  max_fraction=max_fraction, video=video_path,
                                  **mask_kwargs)
    return records


def score_masks(records: Sequence[dict], mask_root: str, gt_root: str) -> dict[str, float]:
    """The mined masks against true ones: mean IoU, precision and recall over frames.

    ``records`` are the mining records; each ``mask_path`` is read under ``mask_root`` and
    under ``gt_root`` (0 / non-zero single-channel PNGs of the same size: the layout of
    ``make_moving_object_videos.py``'s ``gt_masks``, or a dataset's annotations).

    Raises:
        FileNotFoundError: naming a true mask that is missing.
    """
    ious, precisions, recalls = [], [], []
    for record in records:
        masks = []
        for root in (mask_root, gt_root):
            path = osp.join(root, record['mask_path'])
            mask = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
            if mask is None:
                raise FileNotFoundError(f'mask not found or not an image: {path}')
            masks.append(mask > 0)
        mined, truth = masks
        hits = float((mined & truth).sum())
        ious.append(hits / max(float((mined | truth).sum()), 1.0))
        precisions.append(hits / max(float(mined.sum()), 1.0))
        recalls.append(hits / max(float(truth.sum()), 1.0))
    return dict(frames=len(records), iou=float(np.mean(ious)) if ious else 0.0,
                precision=float(np.mean(precisions)) if ious else 0.0,
                recall=float(np.mean(recalls)) if ious else 0.0)
