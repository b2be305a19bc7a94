import mmcv
from mmcv.transforms import BaseTransform

from mmssl.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ResizeToFit(BaseTransform):
    """Shrink an image, keeping its aspect ratio, so that its longer side is at most
    ``max_size``; smaller images are left as they are.

    For device-side augmentation: the workers then only decode and bound the size, and a
    batch is padded to its largest image (``pad_collate``), so the bound caps the bytes
    moved per image. Pick it above the crop size: the random-resized crop then samples
    the same boxes (relative to the image) as on the full-size image.

    Args:
        max_size: the longest allowed side in pixels.
        interpolation: mmcv's name of the filter used when shrinking.
    """

    def __init__(self, max_size: int, interpolation: str = 'area') -> None:
        if max_size < 1:
            raise ValueError(f'ResizeToFit: max_size must be >= 1, got {max_size}')
        self.max_size, self.interpolation = max_size, interpolation

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        if max(h, w) > self.max_size:
            scale = self.max_size / max(h, w)
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            img = mmcv.imresize(img, size, interpolation=self.interpolation)
            results['img'] = img
            results['img_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(max_size={self.max_size})'
