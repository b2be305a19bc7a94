"""Heads of the classic pretext tasks: one classifier for all of them, and the count head."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmssl.models.losses.counting import counting_loss
from mmssl.registry import MODELS


def _mlp(in_channels: int, hid_channels: Sequence[int], with_bn: bool,
         dropout: float) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = []
    for hid in hid_channels:
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(in_channels, hid, bias=not with_bn))
        if with_bn:
            layers.append(nn.BatchNorm1d(hid))
        layers.append(nn.ReLU(inplace=True))
        in_channels = hid
    return nn.Sequential(*layers), in_channels


@MODELS.register_module()
class PretextClsHead(nn.Module):
    """Classifies a group of G views' features (rotation, relative location, jigsaw).

    ``forward`` takes (B, G, C) pooled features (G = 1 for rotation, 2 patches for
    relative location, 9 tiles for jigsaw), maps each view with the shared ``part_channels``
    layers (the per-patch fc6 of the AlexNet-era papers; none by default), concatenates
    the G results and classifies them with the ``hid_channels`` layers and a last linear
    layer. Hidden layers are Linear (+ BN1d) + ReLU, with dropout before each if set.

    Args:
        in_channels: C, the dimension of one view's feature.
        num_classes: the pretext task's classes (4 rotations, 8 positions, P permutations).
        num_parts: G, the views per classified group.
        part_channels: widths of the shared per-view layers.
        hid_channels: widths of the hidden layers after the concatenation.
        with_bn: BN1d in the hidden layers.
        dropout: dropout probability before each hidden layer (AlexNet's fc layers use 0.5).
    """

    def __init__(self, in_channels: int, num_classes: int, num_parts: int = 1,
                 part_channels: Sequence[int] = (), hid_channels: Sequence[int] = (),
                 with_bn: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        self.num_parts = num_parts
        self.part_layers, part_out = _mlp(in_channels, part_channels, with_bn, dropout)
        self.hid_layers, hid_out = _mlp(part_out * num_parts, hid_channels, with_bn, dropout)
        self.fc = nn.Linear(hid_out, num_classes)

    def forward(self, feats: Tensor) -> Tensor:
        """(B, G, C) features -> (B, num_classes) logits."""
        if feats.ndim != 3 or feats.shape[1] != self.num_parts:
            raise ValueError(f'expected features (B, {self.num_parts}, C), got '
                             f'{tuple(feats.shape)}')
        b, g, c = feats.shape
        parts = self.part_layers(feats.reshape(b * g, c))
        return self.fc(self.hid_layers(parts.reshape(b, -1)))

    def loss(self, feats: Tensor, labels: Tensor) -> dict[str, Tensor]:
        """feats (B, G, C), labels (B,) -> ``loss`` (cross-entropy) and ``acc`` (top-1, %)."""
        logits = self(feats)
        with torch.no_grad():
            accuracy = (logits.argmax(dim=1) == labels).float().mean() * 100
        return dict(loss=F.cross_entropy(logits, labels), acc=accuracy)


@MODELS.register_module()
class CountingHead(nn.Module):
    """φ's head in learning to count: (optional hidden layers and) Linear + ReLU to K counts.

    Args:
        in_channels: the pooled backbone feature's dimension.
        count_channels: K, the dimension of the count vector (1000 in the paper).
        hid_channels: widths of hidden Linear (+ BN1d) + ReLU layers before the last one.
        with_bn: BN1d in the hidden layers.
        with_last_bn: BN1d (without affine parameters) between the last linear layer and
            the ReLU: every count is then positive for part of each batch, so the counts
            cannot all die at once (the trivial φ = 0, where the loss sticks at M with no
            gradient, which plain SGD reaches within a few steps on Fashion-MNIST).
        margin: M of the contrastive term (10 in the paper).
        dropout: dropout probability before each hidden layer.
    """

    def __init__(self, in_channels: int, count_channels: int,
                 hid_channels: Sequence[int] = (), with_bn: bool = False,
                 with_last_bn: bool = False, margin: float = 10.0,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.hid_layers, hid_out = _mlp(in_channels, hid_channels, with_bn, dropout)
        self.fc = nn.Linear(hid_out, count_channels)
        self.last_bn = nn.BatchNorm1d(count_channels, affine=False) if with_last_bn else None
        self.margin = margin

    def forward(self, feats: Tensor) -> Tensor:
        """(N, C) features -> (N, K) non-negative counts."""
        counts = self.fc(self.hid_layers(feats))
        if self.last_bn is not None:
            counts = self.last_bn(counts)
        return F.relu(counts)

    def loss(self, down: Tensor, tiles: Tensor, down_other: Tensor) -> dict[str, Tensor]:
        """Counts (N, K), (N, T, K), (N, K) -> ``loss``, :func:`counting_loss` with M."""
        return dict(loss=counting_loss(down, tiles, down_other, self.margin))


@MODELS.register_module()
class DenseClsHead(nn.Module):
    """Per-pixel classification from a feature map (colorization, motion segmentation).

    A 3 x 3 conv + BN + ReLU (``hid_channels``), a 1 x 1 conv to ``num_classes`` logits,
    and bilinear upsampling to the target's size; the loss is the cross-entropy of each
    target pixel that is not ``ignore_index``, times its class's weight if
    ``class_weights`` are set, summed and divided by the number of such pixels (Zhang et
    al.'s eq. 2 per pixel, as their code normalises it; not PyTorch's weighted mean, which
    divides by the sum of the weights and so undoes the rebalancing across batches). 0 when a
    batch has no target pixel, so such a batch trains nothing and does not give NaN.

    Args:
        in_channels: channels of the backbone's feature map.
        num_classes: Q, the classes of a pixel.
        hid_channels: channels of the hidden conv.
        class_weights: Q per-class weights; none by default (plain cross-entropy).
        ignore_index: the label of pixels without a target.
    """

    def __init__(self, in_channels: int, num_classes: int, hid_channels: int = 256,
                 class_weights: Optional[Sequence[float]] = None,
                 ignore_index: int = -100) -> None:
        super().__init__()
        self.convs = nn.Sequential(
            nn.Conv2d(in_channels, hid_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(hid_channels), nn.ReLU(inplace=True),
            nn.Conv2d(hid_channels, num_classes, 1))
        weights = None if class_weights is None else torch.tensor(class_weights,
                                                                  dtype=torch.float32)
        if weights is not None and weights.shape != (num_classes,):
            raise ValueError(f'class_weights has {weights.numel()} values for '
                             f'{num_classes} classes')
        self.register_buffer('class_weights', weights, persistent=False)
        self.ignore_index = ignore_index

    def forward(self, feat: Tensor, size: Sequence[int]) -> Tensor:
        """(N, C, h, w) features -> (N, Q, H, W) logits at ``size`` = (H, W)."""
        logits = self.convs(feat)
        if tuple(logits.shape[2:]) != tuple(size):
            logits = F.interpolate(logits, size=tuple(size), mode='bilinear',
                                   align_corners=False)
        return logits

    def loss(self, feat: Tensor, labels: Tensor) -> dict[str, Tensor]:
        """feat (N, C, h, w), labels (N, H, W) class indices -> ``loss`` and ``acc``
        (% of the labelled pixels)."""
        logits = self(feat, labels.shape[1:])
        valid = labels != self.ignore_index
        per_pixel = F.cross_entropy(logits, labels, weight=self.class_weights,
                                    ignore_index=self.ignore_index, reduction='none')
        loss = per_pixel.sum() / valid.sum().clamp_min(1)
        with torch.no_grad():
            hits = ((logits.argmax(dim=1) == labels) & valid).sum()
            accuracy = hits / valid.sum().clamp_min(1) * 100
        return dict(loss=loss, acc=accuracy)


@MODELS.register_module()
class ColorizationHead(DenseClsHead):
    """:class:`DenseClsHead` over quantised ab colours (Zhang et al.): ``num_bins`` = Q (484
    for ``quantize_ab``'s default grid); ``class_weights`` are Zhang et al.'s rebalancing
    of rare colours (none by default)."""

    def __init__(self, in_channels: int, num_bins: int, hid_channels: int = 256,
                 class_weights: Optional[Sequence[float]] = None) -> None:
        super().__init__(in_channels, num_bins, hid_channels, class_weights)
