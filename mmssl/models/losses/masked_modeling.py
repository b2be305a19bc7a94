"""Masked image modeling losses as pure functions of tensors (docs/contributing.md, convention 5).

Predictions and targets are per patch, (N, L, D) in raster order; ``mask`` (N, L) bool
is ``True`` on the patches that count (the masked ones). Each loss is the mean over the
elements of the counted patches: every patch has D elements, so this equals MAE's
per-patch mean averaged over masked patches and SimMIM's masked-pixel sum divided by
(masked pixels x channels).
"""
import torch.nn.functional as F
from torch import Tensor


def normalized_pixel_targets(patches: Tensor, eps: float = 1e-6) -> Tensor:
    """MAE's ``norm_pix_loss`` targets: each patch (N, L, D) minus its mean, divided by
    ``sqrt(var + eps)`` (unbiased variance over its D values, as MAE)."""
    mean = patches.mean(dim=-1, keepdim=True)
    var = patches.var(dim=-1, keepdim=True)
    return (patches - mean) / (var + eps) ** 0.5


def _masked_mean(per_element: Tensor, mask: Tensor) -> Tensor:
    if per_element.shape[:2] != mask.shape:
        raise ValueError(f'mask {tuple(mask.shape)} does not match the patches '
                         f'{tuple(per_element.shape)}')
    weight = mask.to(per_element.dtype)
    per_patch = per_element.mean(dim=-1)
    return (per_patch * weight).sum() / weight.sum().clamp(min=1.0)


def masked_mse(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """MAE: mean squared error over the masked patches only.

    pred, target: (N, L, D); mask: (N, L) bool. Returns a scalar.
    """
    return _masked_mean((pred - target) ** 2, mask)


def masked_l1(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """SimMIM: mean absolute error over the masked patches only.

    pred, target: (N, L, D); mask: (N, L) bool. Returns a scalar.
    """
    return _masked_mean((pred - target).abs(), mask)


def masked_cross_entropy(logits: Tensor, target_ids: Tensor, mask: Tensor) -> Tensor:
    """BEiT: cross-entropy of the visual-token ids of the masked patches only.

    logits: (N, L, V); target_ids: (N, L) long in [0, V); mask: (N, L) bool.
    Returns the mean over masked patches.
    """
    return F.cross_entropy(logits[mask], target_ids[mask])
