"""Parity of MotionSegmentation with learning features by watching objects move (Pathak,
Girshick, Dollar, Darrell & Hariharan 2017), written out.

mmpretrain has no motion segmentation: the reference is the paper's loss in plain torch,
a per-pixel binary "moves" classification of the mined masks, written as the sigmoid
cross-entropy of the logit difference (equal to mmssl's 2-way softmax cross-entropy),
averaged over the pixels whose label is known. Both sides take the same prepared inputs
(frames and masks as ``MotionSegmentationViews`` gives them: 0/1, 255 where unknown, one
still image without any mask in every batch).
"""
import torch
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from tests._two_view import tiny_resnet
from tests.test_parity._pretext import (PIXEL_CLASSIFIER_KEYS, PixelClassifier,
                                        build_model, check_parity, copied_backbone,
                                        moving_pixel_bce, prefix_rules)


SIZE, TARGET, BATCH, STEPS = 16, 8, 4, 3
STAGE3, HIDDEN = 32, 16
UNKNOWN = 255


class MotionNetwork(nn.Module):
    """The trunk (stage 3) and a per-pixel 2-way classifier [still, moving]."""

    def __init__(self, trunk: nn.Module) -> None:
        super().__init__()
        self.trunk = trunk
        self.head = PixelClassifier(STAGE3, HIDDEN, 2)

    def forward(self, x: Tensor, size: int) -> Tensor:
        """(N, 3, H, W) -> (N, 2, size, size) logits."""
        return self.head(self.trunk(x)[-1], size)


def motion_loss(model: MotionNetwork, batch: tuple) -> Tensor:
    """:func:`moving_pixel_bce` of the network's logits for a (frames, masks) batch."""
    frames, masks = batch
    return moving_pixel_bce(model(frames, masks.shape[-1]), masks, UNKNOWN)


def frames_and_masks(seed: int) -> tuple[Tensor, Tensor]:
    """(N, 3, SIZE, SIZE) normalised frames and (N, TARGET, TARGET) masks: a moving box
    per frame, a few unknown pixels, the last frame a still image (all unknown)."""
    gen = torch.Generator().manual_seed(seed)
    frames = torch.randn(BATCH, 3, SIZE, SIZE, generator=gen)
    masks = torch.zeros(BATCH, TARGET, TARGET, dtype=torch.long)
    for i in range(BATCH - 1):
        top, left = torch.randint(0, TARGET // 2, (2,), generator=gen).tolist()
        masks[i, top:top + TARGET // 2, left:left + TARGET // 2] = 1
    masks[torch.rand(masks.shape, generator=gen) < 0.1] = UNKNOWN
    masks[-1] = UNKNOWN
    return frames, masks


def test_motion_segmentation_matches_the_per_pixel_loss():
    model = build_model(dict(
        type='MotionSegmentation', backbone=dict(tiny_resnet(), out_indices=(2,)),
        head=dict(type='DenseClsHead', in_channels=STAGE3, num_classes=2,
                  hid_channels=HIDDEN, ignore_index=UNKNOWN)))
    reference = MotionNetwork(copied_backbone(model))
    model_batches, reference_batches = [], []
    for step in range(STEPS):
        frames, masks = frames_and_masks(step)
        samples = [DataSample(motion_label=mask) for mask in masks]
        model_batches.append(([frames], samples))
        reference_batches.append((frames, masks))
    rules = prefix_rules([('backbone.', 'trunk.')] + [
        ('head.' + a, 'head.' + b) for a, b in PIXEL_CLASSIFIER_KEYS])
    check_parity(model, reference, model_batches, reference_batches, motion_loss, rules)
