import os
from typing import Optional

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms import LoadImageFromFile as MMCVLoadImageFromFile
from mmengine.logging import print_log
from PIL import Image

from mmssl.registry import TRANSFORMS

# The file the workers append skipped images to; set by ``BadImageReportHook``.
SKIPPED_IMAGES_ENV = 'MMSSL_SKIPPED_IMAGES_LOG'
# PIL's own decompression-bomb limit (twice its warning threshold).
DEFAULT_MAX_PIXELS = 2 * 89_478_485


class ImageDecodeError(ValueError):
    """An image file exists but its content cannot be decoded."""


def _header_pixels(path: str) -> Optional[tuple[int, int]]:
    """(width, height) from the file's header without decoding it; None if PIL cannot
    identify the format (the decoder then decides)."""
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        with Image.open(path) as img:
            return img.size
    except Exception:
        return None
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def record_skipped_image(path: str, reason: str) -> None:
    """Warn about a skipped image and append it to the run's skip list, if one is set."""
    reason = ' '.join(reason.split())  # one line per file (OpenCV's messages span several)
    print_log(f'skipped image {path}: {reason}', logger='current', level=30)
    log_file = os.environ.get(SKIPPED_IMAGES_ENV)
    if log_file:
        with open(log_file, 'a') as f:  # one short O_APPEND write per line: safe across workers
            f.write(f'{path}\t{reason}\n')


@TRANSFORMS.register_module()
class LoadImageFromFile(MMCVLoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` whose failures name the file, with a bad-data policy.

    Registered under mmcv's name in the ``mmssl`` scope, so every mmssl config, and every
    mmpretrain base it inherits, decodes with this one. Images decode to 3-channel uint8
    (mmcv's ``color_type='color'``): alpha is dropped, 16-bit is scaled to 8-bit, grey
    and CMYK become BGR, and the content decides the format, not the extension. An image
    whose header declares more than ``max_pixels`` is refused before it is decoded.

    Args:
        on_error: ``'raise'`` (fail fast, the error names the file) or ``'skip'``: the
            sample is dropped (mmengine's dataset then draws another one), the file is
            warned about and listed for ``BadImageReportHook``, which summarises each
            epoch and stops training above its threshold.
        max_pixels: the largest width x height accepted (decompression bombs).
        **kwargs: mmcv's ``LoadImageFromFile`` arguments.

    Raises:
        FileNotFoundError: ``image file not found: <path>`` (``on_error='raise'``).
        ImageDecodeError: ``cannot decode image file <path>: <reason>`` (idem).
    """

    def __init__(self, on_error: str = 'raise', max_pixels: int = DEFAULT_MAX_PIXELS,
                 **kwargs) -> None:
        if on_error not in ('raise', 'skip'):
            raise ValueError(f"LoadImageFromFile on_error must be 'raise' or 'skip', "
                             f'got {on_error!r}')
        super().__init__(**kwargs)
        self.on_error, self.max_pixels = on_error, max_pixels

    def transform(self, results: dict) -> Optional[dict]:
        path = results['img_path']
        try:
            return self._load(path, results)
        except (FileNotFoundError, ImageDecodeError) as err:
            if self.on_error == 'raise':
                raise
            record_skipped_image(path, str(err))
            return None

    def _load(self, path: str, results: dict) -> dict:
        size = _header_pixels(path) if os.path.isfile(path) else None
        if size is not None and size[0] * size[1] > self.max_pixels:
            raise ImageDecodeError(
                f'cannot decode image file {path}: {size[0]}x{size[1]} pixels exceed '
                f'max_pixels={self.max_pixels} (LoadImageFromFile)')
        try:
            loaded = super().transform(results)
        except FileNotFoundError as err:
            raise FileNotFoundError(f'image file not found: {path}') from err
        except Exception as err:
            raise ImageDecodeError(f'cannot decode image file {path}: {err}') from err
        if loaded is None:  # mmcv's ignore_empty=True on a missing file
            raise FileNotFoundError(f'image file not found: {path}')
        return loaded


@TRANSFORMS.register_module()
class LoadMotionMask(BaseTransform):
    """Reads the motion mask of a video frame: ``results['mask_path']`` (a single-channel
    PNG, 0 = still, 255 = moving, as ``tools/dataset_converters/mine_motion_masks.py``
    writes; ``ImageFolder(mask_root=...)`` sets the path) becomes ``gt_motion``, an
    (H, W) uint8 map of 0/1 the size of ``img``. A sample without ``mask_path`` (a still
    image mixed into the loader) is left without ``gt_motion``; ``MotionSegmentationViews``
    then marks its every pixel unknown.

    Raises:
        FileNotFoundError: ``motion mask file not found: <path>``.
        ValueError: the mask cannot be decoded or its size differs from the image's,
            naming both files.
    """

    def transform(self, results: dict) -> dict:
        path = results.get('mask_path')
        if path is None:
            return results
        if not os.path.isfile(path):
            raise FileNotFoundError(f'motion mask file not found: {path} (for the frame '
                                    f"{results.get('img_path')})")
        mask = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        if mask is None:
            raise ValueError(f'cannot decode the motion mask {path}')
        if mask.shape != results['img'].shape[:2]:
            raise ValueError(f'the motion mask {path} is {mask.shape[1]}x{mask.shape[0]} '
                             f"but its frame {results.get('img_path')} is "
                             f"{results['img'].shape[1]}x{results['img'].shape[0]}")
        results['gt_motion'] = (mask > 127).astype(np.uint8)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'
