"""View augmentations that run on whole batches on the model's device.

The CPU pipeline of a multi-view method (decode, then crop/jitter every view of every
image) is usually what limits throughput. These transforms take a float batch
(N, C, H, W) with values in [0, 255], draw independent parameters per sample on the
device and apply them with batched tensor ops, so the dataloader only decodes.
``SelfSupDataPreprocessor(device_views=...)`` makes the views with them.
"""
import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmssl.registry import MODELS


def _uniform(n: int, low: float, high: float, like: Tensor) -> Tensor:
    """(n,) samples of U(low, high) on ``like``'s device, from torch's global RNG."""
    return torch.empty(n, device=like.device).uniform_(low, high)


@MODELS.register_module()
class BatchRandomResizedCrop(nn.Module):
    """Random-resized crop plus an optional horizontal flip, per sample, in one resample.

    As torchvision's ``RandomResizedCrop``: a box of area ``scale`` x the image and aspect
    ``ratio`` (log-uniform) is placed uniformly at random and resized (bilinear) to
    ``size``. Boxes that do not fit are shrunk to fit (torchvision retries, then falls back
    to a centre crop), which keeps the op free of host syncs.

    Args:
        size: output side (square) or (H, W).
        scale: range of the box area as a fraction of the image area.
        ratio: range of the box aspect ratio (width / height).
        flip_prob: probability of a horizontal flip.
    """

    def __init__(self,
                 size: int | Sequence[int],
                 scale: Sequence[float] = (0.08, 1.0),
                 ratio: Sequence[float] = (3 / 4, 4 / 3),
                 flip_prob: float = 0.5) -> None:
        super().__init__()
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        if not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(f'BatchRandomResizedCrop scale must satisfy 0 < min <= max <= 1, '
                             f'got {tuple(scale)}')
        if not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f'BatchRandomResizedCrop ratio must satisfy 0 < min <= max, '
                             f'got {tuple(ratio)}')
        self.scale, self.ratio, self.flip_prob = tuple(scale), tuple(ratio), flip_prob

    def sample_boxes(self, n: int, like: Tensor) -> Tensor:
        """(n, 4) boxes (cx, cy, w, h) in normalised coordinates, image = [-1, 1]^2."""
        area = _uniform(n, *self.scale, like)
        aspect = torch.exp(_uniform(n, math.log(self.ratio[0]), math.log(self.ratio[1]), like))
        # Half-sizes in [-1, 1] units: the full image has half-size 1 in each direction.
        half_w = torch.sqrt(area * aspect).clamp(max=1.0)
        half_h = torch.sqrt(area / aspect).clamp(max=1.0)
        cx = _uniform(n, -1, 1, like) * (1 - half_w)
        cy = _uniform(n, -1, 1, like) * (1 - half_h)
        return torch.stack([cx, cy, half_w, half_h], dim=1)

    def forward(self, images: Tensor) -> Tensor:
        """(N, C, H, W) float -> (N, C, *size) float."""
        n = images.shape[0]
        cx, cy, half_w, half_h = self.sample_boxes(n, images).unbind(1)
        flip = torch.where(torch.rand(n, device=images.device) < self.flip_prob, -1.0, 1.0)
        theta = torch.zeros(n, 2, 3, device=images.device)
        theta[:, 0, 0] = half_w * flip
        theta[:, 0, 2] = cx
        theta[:, 1, 1] = half_h
        theta[:, 1, 2] = cy
        grid = F.affine_grid(theta, [n, images.shape[1], *self.size], align_corners=False)
        return F.grid_sample(images, grid, mode='bilinear', padding_mode='border',
                             align_corners=False)


@MODELS.register_module()
class BatchColorJitter(nn.Module):
    """Brightness and contrast jitter per sample, applied with probability ``prob``.

    Brightness multiplies by b ~ U(1 - brightness, 1 + brightness); contrast blends with
    the image's mean level over all pixels and channels: ``mean + c * (x - mean)``,
    c ~ U(1 - contrast, 1 + contrast) (torchvision's definitions on grey images, where
    its luma mean is this mean); brightness first, then contrast, each clamped to
    [0, 255]. Saturation and hue are left out: they do nothing on grey images.
    """

    def __init__(self, brightness: float = 0.4, contrast: float = 0.4,
                 prob: float = 0.8) -> None:
        super().__init__()
        for name, value in (('brightness', brightness), ('contrast', contrast)):
            if not 0 <= value < 1:
                raise ValueError(f'BatchColorJitter {name} must be in [0, 1), got {value}')
        self.brightness, self.contrast, self.prob = brightness, contrast, prob

    def forward(self, images: Tensor) -> Tensor:
        """(N, C, H, W) float in [0, 255] -> same shape, jittered."""
        n = images.shape[0]
        apply = (torch.rand(n, device=images.device) < self.prob).float()
        b = 1 + apply * _uniform(n, -self.brightness, self.brightness, images)
        c = 1 + apply * _uniform(n, -self.contrast, self.contrast, images)
        images = (images * b.view(n, 1, 1, 1)).clamp(0, 255)
        grey_mean = images.mean(dim=(1, 2, 3), keepdim=True)
        return (grey_mean + c.view(n, 1, 1, 1) * (images - grey_mean)).clamp(0, 255)
