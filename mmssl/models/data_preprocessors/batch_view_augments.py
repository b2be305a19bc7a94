"""View augmentations that run on whole batches on the model's device.

The CPU pipeline of a multi-view method (decode, then crop/jitter every view of every
image) is usually what limits throughput. These ops take a float batch (N, C, H, W),
values in [0, 255], channels in RGB order, and reproduce torchvision's transforms with
independent parameters per sample, drawn on the device from a ``torch.Generator`` and
applied with batched tensor ops: no host synchronisation, no data-dependent shapes.

Every op splits into ``sample_params(n, generator, image_sizes)`` (random, a dict of
tensors with leading dim n) and ``apply_params(images, params, image_sizes)``
(deterministic; applying to a batch equals applying to each image with its slice of the
params).
``image_sizes`` (n, 2) int64 holds each sample's valid [h, w] when images are padded at
the bottom/right to one canvas; only the crop reads it: the other ops treat the whole
tensor as the image, so the crop comes first in a chain on padded images.
"""
import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmssl.registry import MODELS

# torchvision's luma weights (``rgb_to_grayscale``).
_LUMA = (0.2989, 0.587, 0.114)


def _rand(generator: torch.Generator, *shape: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """U[0, 1) of ``shape`` on the generator's device, from that generator only."""
    return torch.rand(shape, generator=generator, device=generator.device, dtype=dtype)


def _uniform(generator: torch.Generator, low: float, high: float, *shape: int) -> Tensor:
    """U[low, high) of ``shape``, float32, as ``Tensor.uniform_``."""
    return _rand(generator, *shape) * (high - low) + low


def _check_prob(op: str, prob: float) -> None:
    if not 0 <= prob <= 1:
        raise ValueError(f'{op} prob must be in [0, 1], got {prob}')


def _check_range(op: str, name: str, value: Sequence[float], upper: float = math.inf) -> None:
    """A (min, max) pair with 0 < min <= max <= upper."""
    if len(value) != 2 or not 0 < value[0] <= value[1] <= upper:
        raise ValueError(f'{op} {name} must be (min, max) with 0 < min <= max'
                         f'{"" if upper == math.inf else f" <= {upper}"}, got {tuple(value)}')


def _per_sample(values: Tensor) -> Tensor:
    """(N,) -> (N, 1, 1, 1), to broadcast over an image batch."""
    return values.view(-1, 1, 1, 1)


def _luma(images: Tensor) -> Tensor:
    """(N, 3, H, W) RGB -> (N, 1, H, W) luma; 1-channel images are their own luma."""
    if images.shape[1] == 1:
        return images
    r, g, b = images.unbind(1)
    return (_LUMA[0] * r + _LUMA[1] * g + _LUMA[2] * b).unsqueeze(1)


class BatchViewAugment(nn.Module):
    """Base of the batched view ops: ``forward = apply_params(sample_params(...))``.

    (Not ``apply``: that name is ``nn.Module.apply(fn)``, which ``model.to`` and weight
    initialisation call on every submodule.)
    """

    def sample_params(self, n: int, generator: torch.Generator,
                      image_sizes: Tensor | None = None) -> dict[str, Tensor]:
        """Per-sample parameters, each with leading dim n, drawn from ``generator`` only."""
        raise NotImplementedError

    def apply_params(self, images: Tensor, params: dict[str, Tensor],
                     image_sizes: Tensor | None = None) -> Tensor:
        """(N, C, H, W) float in [0, 255] -> augmented batch, deterministic in ``params``."""
        raise NotImplementedError

    def forward(self, images: Tensor, generator: torch.Generator,
                image_sizes: Tensor | None = None) -> Tensor:
        params = self.sample_params(images.shape[0], generator, image_sizes)
        return self.apply_params(images, params, image_sizes)


class _RandomApplied(BatchViewAugment):
    """An op applied to each sample with probability ``prob``: params ``apply`` (N,) bool."""

    def __init__(self, prob: float) -> None:
        super().__init__()
        _check_prob(type(self).__name__, prob)
        self.prob = prob

    def sample_params(self, n: int, generator: torch.Generator,
                      image_sizes: Tensor | None = None) -> dict[str, Tensor]:
        return dict(apply=_rand(generator, n) < self.prob)

    def transform(self, images: Tensor, params: dict[str, Tensor]) -> Tensor:
        """The op on every sample of the batch; ``apply_params`` then selects per sample."""
        raise NotImplementedError

    def apply_params(self, images: Tensor, params: dict[str, Tensor],
                     image_sizes: Tensor | None = None) -> Tensor:
        return torch.where(_per_sample(params['apply']), self.transform(images, params), images)


def full_image_sizes(images: Tensor) -> Tensor:
    """(N, 2) int64 [H, W] of a batch whose images fill the tensor, made without a sync."""
    n, _, h, w = images.shape
    sizes = torch.empty(n, 2, dtype=torch.int64, device=images.device)
    sizes[:, 0], sizes[:, 1] = h, w
    return sizes


def _resize_weights(start: Tensor, length: Tensor, out_size: int, in_size: int) -> Tensor:
    """(N, out_size, in_size) rows that resample [start, start + length) to ``out_size``.

    torch's antialiased bilinear resize (``interpolate(..., antialias=True)``, the one of
    torchvision's ``resize``): output pixel i is centred at ``scale * (i + 0.5)`` in the
    segment, ``scale = length / out_size``; input pixels weigh by a triangle of half-width
    ``max(scale, 1)`` around it, renormalised over the pixels inside the segment (which is
    an edge clamp when upsampling). start, length: (N,) int64.
    """
    scale = (length.float() / out_size).view(-1, 1, 1)
    # Offsets of the input pixel centres in the segment, as torch computes them.
    pos = (torch.arange(in_size, device=start.device) - start.view(-1, 1)).float()
    centre = scale * (torch.arange(out_size, device=start.device).float() + 0.5).view(1, -1, 1)
    inv_support = torch.where(scale >= 1, 1 / scale, torch.ones_like(scale))
    weights = (1 - ((pos.unsqueeze(1) + 0.5 - centre) * inv_support).abs()).clamp(min=0)
    inside = (pos >= 0) & (pos < length.view(-1, 1))
    weights = weights * inside.unsqueeze(1)
    return weights / weights.sum(-1, keepdim=True)


@MODELS.register_module()
class BatchRandomResizedCrop(BatchViewAugment):
    """torchvision's ``RandomResizedCrop`` (bilinear, antialiased), per sample.

    Boxes follow ``RandomResizedCrop.get_params`` exactly: 10 attempts (area
    ``U(scale) * h * w``, log-uniform aspect in ``ratio``, rounded sides; accepted if they
    fit), the first accepted one placed uniformly, else the centre crop with the aspect
    clamped to ``ratio``. All attempts are drawn at once. The resample is the antialiased
    bilinear resize of each box as separable (out, in) weight matrices over the canvas:
    two batched matmuls, zero weight outside the box.

    Params: ``boxes`` (N, 4) int64 (top, left, height, width) inside each sample's
    ``image_sizes``, which ``sample_params`` needs (``forward`` fills it for unpadded
    batches, see ``full_image_sizes``).

    Args:
        size: output side (square) or (H, W).
        scale: range of the box area as a fraction of the image area.
        ratio: range of the box aspect ratio (width / height).
    """

    attempts = 10

    def __init__(self,
                 size: int | Sequence[int],
                 scale: Sequence[float] = (0.08, 1.0),
                 ratio: Sequence[float] = (3 / 4, 4 / 3)) -> None:
        super().__init__()
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        if len(self.size) != 2 or min(self.size) < 1:
            raise ValueError(f'BatchRandomResizedCrop size must be a positive int or (h, w), '
                             f'got {size}')
        _check_range('BatchRandomResizedCrop', 'scale', scale)
        _check_range('BatchRandomResizedCrop', 'ratio', ratio)
        self.scale, self.ratio = tuple(scale), tuple(ratio)

    def sample_params(self, n: int, generator: torch.Generator,
                      image_sizes: Tensor | None = None) -> dict[str, Tensor]:
        if image_sizes is None:
            raise ValueError('BatchRandomResizedCrop.sample_params needs image_sizes (n, 2); '
                             'pass full_image_sizes(images) for unpadded batches')
        height, width = image_sizes.to(generator.device).double().unbind(1)  # (n,) each
        area = (_uniform(generator, *self.scale, n, self.attempts).double()
                * (height * width)[:, None])
        log_ratio = math.log(self.ratio[0]), math.log(self.ratio[1])
        aspect = torch.exp(_uniform(generator, *log_ratio, n, self.attempts)).double()
        w = torch.round(torch.sqrt(area * aspect))  # (n, attempts), round half to even
        h = torch.round(torch.sqrt(area / aspect))
        fits = (w > 0) & (w <= width[:, None]) & (h > 0) & (h <= height[:, None])
        first = fits.to(torch.uint8).argmax(1, keepdim=True)  # first accepted attempt
        w, h = w.gather(1, first).squeeze(1), h.gather(1, first).squeeze(1)
        # Uniform placement of the accepted box.
        u_top, u_left = _rand(generator, n, 2, dtype=torch.float64).unbind(1)
        top = torch.minimum(torch.floor(u_top * (height - h + 1)), height - h)
        left = torch.minimum(torch.floor(u_left * (width - w + 1)), width - w)
        # torchvision's fallback: centre crop, aspect clamped to the ratio range.
        in_ratio = width / height
        fb_w = torch.where(in_ratio > self.ratio[1], torch.round(height * self.ratio[1]), width)
        fb_h = torch.where(in_ratio < self.ratio[0], torch.round(width / self.ratio[0]), height)
        fb_top = torch.div(height - fb_h, 2, rounding_mode='floor')
        fb_left = torch.div(width - fb_w, 2, rounding_mode='floor')
        found = fits.any(1)
        boxes = torch.stack([torch.where(found, top, fb_top), torch.where(found, left, fb_left),
                             torch.where(found, h, fb_h), torch.where(found, w, fb_w)], 1)
        return dict(boxes=boxes.long())

    def apply_params(self, images: Tensor, params: dict[str, Tensor],
                     image_sizes: Tensor | None = None) -> Tensor:
        """(N, C, H, W) -> (N, C, *size): each box resized as torchvision's ``resized_crop``."""
        top, left, h, w = params['boxes'].to(images.device).unbind(1)
        rows = _resize_weights(top, h, self.size[0], images.shape[2]).to(images.dtype)
        cols = _resize_weights(left, w, self.size[1], images.shape[3]).to(images.dtype)
        # (N, 1, out_h, H) @ (N, C, H, W) @ (N, 1, W, out_w)
        return rows.unsqueeze(1) @ images @ cols.transpose(1, 2).unsqueeze(1)

    def forward(self, images: Tensor, generator: torch.Generator,
                image_sizes: Tensor | None = None) -> Tensor:
        if image_sizes is None:
            image_sizes = full_image_sizes(images)
        return super().forward(images, generator, image_sizes)


@MODELS.register_module()
class BatchRandomFlip(_RandomApplied):
    """torchvision's ``RandomHorizontalFlip(prob)``, per sample. Params: ``apply`` (N,)."""

    def __init__(self, prob: float = 0.5) -> None:
        super().__init__(prob)

    def transform(self, images: Tensor, params: dict[str, Tensor]) -> Tensor:
        return images.flip(-1)


@MODELS.register_module()
class BatchColorJitter(BatchViewAugment):
    """torchvision's ``RandomApply([ColorJitter(...)], p=prob)``, per sample.

    Factors as torchvision's: brightness, contrast, saturation ~ U(max(0, 1 - x), 1 + x),
    hue ~ U(-hue, hue), the four ops in a random order per sample, each clamped to the
    value range: brightness scales, contrast blends with the mean luma of the image,
    saturation with the luma image, hue shifts H in HSV. On 1-channel images contrast
    uses the image mean and saturation and hue do nothing (as torchvision). An op whose
    strength is 0 is skipped (its factor is the identity).

    Params: ``apply`` (N,) bool; ``factors`` (N, 4) float32 (brightness, contrast,
    saturation, hue); ``order`` (N, 4) int64, a permutation of the op indices
    (0 brightness, 1 contrast, 2 saturation, 3 hue: torchvision's ``fn_idx``).
    """

    def __init__(self, brightness: float = 0.4, contrast: float = 0.4,
                 saturation: float = 0.4, hue: float = 0.1, prob: float = 0.8) -> None:
        super().__init__()
        for name, value in (('brightness', brightness), ('contrast', contrast),
                            ('saturation', saturation)):
            if not value >= 0:
                raise ValueError(f'BatchColorJitter {name} must be >= 0, got {value}')
        if not 0 <= hue <= 0.5:
            raise ValueError(f'BatchColorJitter hue must be in [0, 0.5], got {hue}')
        _check_prob('BatchColorJitter', prob)
        self.brightness, self.contrast, self.saturation = brightness, contrast, saturation
        self.hue, self.prob = hue, prob

    def sample_params(self, n: int, generator: torch.Generator,
                      image_sizes: Tensor | None = None) -> dict[str, Tensor]:
        ranges = [(max(0.0, 1 - x), 1 + x)
                  for x in (self.brightness, self.contrast, self.saturation)]
        ranges.append((-self.hue, self.hue))
        return dict(apply=_rand(generator, n) < self.prob,
                    factors=torch.stack([_uniform(generator, *r, n) for r in ranges], 1),
                    order=_rand(generator, n, 4).argsort(1))

    def apply_params(self, images: Tensor, params: dict[str, Tensor],
                     image_sizes: Tensor | None = None) -> Tensor:
        """Each sample's ops in its order, with hue (the costly op) run once for the batch.

        Brightness, contrast and saturation are one blend each, ``clamp(f * x + (1 - f) *
        other)`` with ``other`` 0, the mean luma or the luma image: a slot runs each
        sample's op of that position as one blend (factor 1, the identity, for a sample
        with no op there). Hue sits between the slots of the ops before it and those after
        it: 3 + 3 slots and one hue pass, instead of every op at each of the 4 positions.
        """
        x = images / 255  # torchvision's float range, so the ops match its arithmetic
        factors = params['factors'].to(images).clone()
        order = params['order'].to(images.device)
        colour = images.shape[1] == 3
        for op, on in enumerate((self.brightness, self.contrast, colour and self.saturation)):
            if not on:
                factors[:, op] = 1  # a disabled op is the identity blend
        needs_luma = bool(self.contrast) or bool(colour and self.saturation)
        if colour and self.hue:
            hue_position = (order == 3).to(torch.uint8).argmax(1)  # (N,)
            for position in range(3):  # the ops before hue
                x = _blend_slot(x, order[:, position], hue_position > position, factors,
                                needs_luma)
            x = _shift_hue(x, _per_sample(factors[:, 3]))
            for position in range(1, 4):  # the ops after hue
                x = _blend_slot(x, order[:, position], hue_position < position, factors,
                                needs_luma)
        else:
            for position in range(4):
                op = order[:, position]
                x = _blend_slot(x, op, op != 3, factors, needs_luma)
        return torch.where(_per_sample(params['apply']), x * 255, images)


def _blend_slot(images: Tensor, op: Tensor, runs: Tensor, factors: Tensor,
                needs_luma: bool) -> Tensor:
    """Brightness (op 0), contrast (1) or saturation (2) per sample, as torchvision's.

    images (N, C, H, W) in [0, 1]; op (N,) int64 in [0, 4); runs (N,) bool; factors
    (N, 4). A sample that does not run here gets factor 1: ``1 * x + (1 - 1) * other``
    is exactly x. Hue (op 3) never runs in a blend slot.
    """
    factor = torch.where(runs, factors.gather(1, op[:, None]).squeeze(1), 1.0)
    other = images.new_zeros(())  # brightness blends with black
    if needs_luma:
        luma = _luma(images)
        other = torch.where(_per_sample(op == 2), luma,
                            torch.where(_per_sample(op == 1), luma.mean((1, 2, 3), keepdim=True),
                                        other))
    return _blend(images, other, _per_sample(factor))


def _blend(images: Tensor, other: Tensor, factor: Tensor) -> Tensor:
    """torchvision's ``_blend`` on [0, 1] images: factor * images + (1 - factor) * other."""
    return (factor * images + (1 - factor) * other).clamp(0, 1)


def _shift_hue(images: Tensor, shift: Tensor) -> Tensor:
    """(N, 3, H, W) RGB in [0, 1], shift (N, 1, 1, 1): torchvision's ``adjust_hue``.

    RGB -> hue as torchvision's ``_rgb2hsv`` (in sextants, [0, 6)), shifted; back to RGB
    as its ``_hsv2rgb`` (a table of v, p, q, t per sextant) in closed form: channel n in
    (5, 3, 1) is ``v - chroma * clamp(min(k, 4 - k), 0, 1)``, ``k = (n + hue) mod 6``,
    where ``chroma = max - min = v * s``. Value and chroma are unchanged by the shift.
    """
    maxc, minc = images.amax(1, keepdim=True), images.amin(1, keepdim=True)  # (N, 1, H, W)
    chroma = maxc - minc
    red_max, green_max = maxc == images[:, :1], maxc == images[:, 1:2]
    rc, gc, bc = ((maxc - images) / torch.where(chroma == 0, 1.0, chroma)).split(1, 1)
    hue = torch.where(red_max, bc - gc, torch.where(green_max, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = torch.remainder(hue + 6 * shift, 6.0)
    n = torch.arange(5.0, 0.0, -2.0, device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    k = torch.remainder(n + hue, 6.0)
    return maxc - chroma * torch.minimum(k, 4.0 - k).clamp(0.0, 1.0)


@MODELS.register_module()
class BatchRandomGrayscale(_RandomApplied):
    """torchvision's ``RandomGrayscale(prob)``: luma kept at C channels. Params: ``apply``."""

    def __init__(self, prob: float = 0.2) -> None:
        super().__init__(prob)

    def transform(self, images: Tensor, params: dict[str, Tensor]) -> Tensor:
        return _luma(images).expand_as(images)


@MODELS.register_module()
class BatchGaussianBlur(_RandomApplied):
    """torchvision's ``RandomApply([GaussianBlur(kernel_size, sigma)], p=prob)``, per sample.

    sigma ~ U(sigma) per sample; a separable Gaussian of ``kernel_size`` taps with
    reflect padding, run as grouped convolutions (one kernel per sample).
    Params: ``apply`` (N,) bool, ``sigma`` (N,) float32.
    """

    def __init__(self, kernel_size: int = 23, sigma: Sequence[float] = (0.1, 2.0),
                 prob: float = 0.5) -> None:
        if not (isinstance(kernel_size, int) and kernel_size > 0 and kernel_size % 2):
            raise ValueError(f'BatchGaussianBlur kernel_size must be a positive odd int, '
                             f'got {kernel_size}')
        _check_range('BatchGaussianBlur', 'sigma', sigma)
        super().__init__(prob)
        self.kernel_size, self.sigma = kernel_size, tuple(sigma)

    def sample_params(self, n: int, generator: torch.Generator,
                      image_sizes: Tensor | None = None) -> dict[str, Tensor]:
        params = super().sample_params(n, generator)
        params['sigma'] = _uniform(generator, *self.sigma, n)
        return params

    def transform(self, images: Tensor, params: dict[str, Tensor]) -> Tensor:
        n, c, h, w = images.shape
        half = self.kernel_size // 2
        taps = torch.arange(-half, half + 1, device=images.device, dtype=images.dtype)
        sigma = params['sigma'].to(images).view(-1, 1)
        kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
        kernel = (kernel / kernel.sum(1, keepdim=True)).repeat_interleave(c, 0)  # (N * C, k)
        x = F.pad(images.reshape(1, n * c, h, w), (half, half, half, half), mode='reflect')
        x = F.conv2d(x, kernel.view(n * c, 1, 1, -1), groups=n * c)
        x = F.conv2d(x, kernel.view(n * c, 1, -1, 1), groups=n * c)
        return x.view(n, c, h, w)


@MODELS.register_module()
class BatchSolarize(_RandomApplied):
    """torchvision's ``RandomSolarize(threshold, prob)`` on [0, 255]: x >= threshold -> 255 - x.

    Params: ``apply`` (N,) bool.
    """

    def __init__(self, threshold: float = 128, prob: float = 0.2) -> None:
        if not 0 <= threshold <= 255:
            raise ValueError(f'BatchSolarize threshold must be in [0, 255], got {threshold}')
        super().__init__(prob)
        self.threshold = threshold

    def transform(self, images: Tensor, params: dict[str, Tensor]) -> Tensor:
        return torch.where(images >= self.threshold, 255 - images, images)
