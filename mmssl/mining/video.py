"""Videos in, images out: decoding a video file or a folder of frames, and writing an
image so that a crash leaves no partial file."""
import os
import os.path as osp
from typing import Optional, Sequence

import cv2
import numpy as np

from mmssl.datasets.image_folder import IMG_EXTENSIONS

# The video files the miners look for (``--videos DIR``), decoded by :func:`read_video`.
VIDEO_EXTENSIONS = ('.avi', '.mp4', '.mov', '.mkv', '.webm', '.mpg')


def frame_files(folder: str) -> list[str]:
    """The frame images (:data:`IMG_EXTENSIONS`) of a video stored as a folder of images,
    in name order (subfolders not searched)."""
    return [osp.join(folder, name) for name in sorted(os.listdir(folder))
            if name.lower().endswith(IMG_EXTENSIONS)
            and osp.isfile(osp.join(folder, name))]


def frame_scale(height: int, width: int, max_side: Optional[int] = None) -> float:
    """The factor :func:`read_video` resizes a (height, width) frame by (1: none)."""
    longer = max(height, width)
    return max_side / longer if max_side and longer > max_side else 1.0


def read_video(path: str, max_frames: Optional[int] = None,
               max_side: Optional[int] = None) -> list[np.ndarray]:
    """The frames of a video as (H, W, 3) uint8 BGR arrays, decoded with OpenCV.

    ``path``: a video file, or a folder of frame images (:func:`frame_files`, e.g. a
    video split into JPEGs). ``max_frames``: stop after that many frames; ``max_side``:
    downscale frames whose longer side exceeds it (:func:`frame_scale`; the boxes then
    refer to the downscaled frames).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: naming ``path``, if OpenCV cannot open it or decodes no frame.
    """
    if osp.isdir(path):
        frames = [cv2.imread(p, cv2.IMREAD_COLOR) for p in frame_files(path)[:max_frames]]
        if any(frame is None for frame in frames):
            raise ValueError(f'OpenCV cannot decode a frame image in {path}')
    elif osp.isfile(path):
        frames = []
        cap = cv2.VideoCapture(path)
        if not cap.isOpened():
            raise ValueError(f'OpenCV cannot open the video {path}')
        try:
            while max_frames is None or len(frames) < max_frames:
                ok, frame = cap.read()
                if not ok:
                    break
                frames.append(frame)
        finally:
            cap.release()
    else:
        raise FileNotFoundError(f'video file not found: {path}')
    if not frames:
        raise ValueError(f'no frame could be decoded from the video {path}')
    scale = frame_scale(*frames[0].shape[:2], max_side)
    if scale != 1.0:
        frames = [cv2.resize(f, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                  for f in frames]
    return frames


def write_image(path: str, image: np.ndarray, params: Sequence[int] = ()) -> None:
    """Encode ``image`` by the extension of ``path`` (as ``cv2.imwrite`` does) and write it
    to ``<path>.tmp``, renamed to ``path`` once complete: a crash leaves no partial image,
    and no temporary file with an image extension for a folder scan to pick up.

    Raises:
        OSError: naming ``path``, if OpenCV cannot encode the image or the file cannot be
            written.
    """
    ext = osp.splitext(path)[1]
    try:
        ok, data = cv2.imencode(ext, image, list(params))
    except cv2.error as err:
        raise OSError(f'OpenCV cannot write the image {path}: {err}') from err
    if not ok:
        raise OSError(f'OpenCV cannot write the image {path}')
    folder = osp.dirname(path)
    tmp = f'{path}.tmp'
    try:
        os.makedirs(folder or '.', exist_ok=True)
        with open(tmp, 'wb') as f:
            f.write(data.tobytes())
        os.replace(tmp, path)
    except OSError as err:
        raise OSError(f'cannot write the image {path}: {err}') from err
