"""Intra-instance patches: objects tracked through a video (Wang, He & Gupta, ICCV 2017).

:func:`mine_video` decodes a video (:func:`~mmssl.mining.video.read_video`), detects good
features to track in the first frame, tracks them with pyramidal KLT and a
forward-backward check (:func:`track_points`), and puts a fixed-size box around each
tracked point in its first frame, every ``every`` frames and its last; the track's first
patch (its *head*, :func:`track_heads`) is linked to each later one.

Patch records are dicts: ``source`` (the video file or frame folder, or the image file),
``frame`` (the frame index in the video, -1 for a still image), ``box`` ``[x0, y0, x1, y1]``
(pixels, x1/y1 exclusive) in that frame, ``track`` (the track id within the video, -1 for
none) and ``point`` (video patches: the tracked ``[x, y]``, the box's centre unless the box
was shifted inside the frame).
"""
from typing import Optional, Sequence

import cv2
import numpy as np

from .patches import box_around, crop
from .video import read_video


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
