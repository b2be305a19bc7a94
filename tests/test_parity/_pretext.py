"""What the parity tests of the classic pretext tasks share: the tiny mmssl models and their
batches (made by mmssl's own CPU transforms and data preprocessor), the plain-torch pieces
of the references, and the run-and-compare routine.

The references are written from the papers in plain torch; the only mmssl/mmpretrain part
they reuse is the backbone, a deep copy of the mmssl model's (an mmpretrain ResNet).
"""
import copy
import re
from typing import Callable, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import Compose
from mmengine.dataset import default_collate
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from mmssl.registry import MODELS
from tests._two_view import tiny_resnet
from tests.test_parity._parity import (PREPROCESSOR_STATE, KeyRules, assert_same_record,
                                       assert_same_state, copy_weights, sgd, train_steps)

# ImageNet's mean/std in RGB order; images are decoded BGR (to_rgb flips them first).
MEAN = (123.675, 116.28, 103.53)
STD = (58.395, 57.12, 57.375)
PREPROCESSOR = dict(mean=list(MEAN), std=list(STD), to_rgb=True)


def build_model(cfg: dict, seed: int = 0) -> nn.Module:
    """The mmssl algorithm of ``cfg`` (tiny ResNet backbone unless given), initialised,
    in training mode; ``cfg`` needs ``type`` and ``head``."""
    torch.manual_seed(seed)
    cfg = dict(dict(backbone=tiny_resnet(), data_preprocessor=PREPROCESSOR), **cfg)
    model = MODELS.build(cfg)
    model.init_weights()
    return model.train()


def random_images(count: int, size: int, seed: int) -> np.ndarray:
    """(count, size, size, 3) uint8 random BGR images, as decoded."""
    return np.random.default_rng(seed).integers(0, 256, (count, size, size, 3), np.uint8)


def mmssl_batch(model: nn.Module, pipeline: Sequence[dict], images: np.ndarray,
                algorithm_keys: Sequence[str] = ('pretext_label',),
                seed: int = 0) -> tuple[list[Tensor], list[DataSample]]:
    """The (inputs, data_samples) ``model.loss`` takes for ``images``, made as training
    makes them: ``pipeline`` and ``PackInputs`` per image (numpy seeded with ``seed``),
    ``default_collate``, then the model's data preprocessor."""
    np.random.seed(seed)
    transforms = Compose(list(pipeline) + [
        dict(type='PackInputs', algorithm_keys=list(algorithm_keys))])
    packed = [transforms(dict(img=img)) for img in images]
    data = model.data_preprocessor(default_collate(packed), training=True)
    return data['inputs'], data['data_samples']


def normalised(images) -> Tensor:
    """(N, H, W, 3) uint8 BGR (numpy or tensor) -> (N, 3, H, W) float32 RGB, standardised
    by :data:`MEAN` and :data:`STD` (the reference's own preprocessing)."""
    x = torch.as_tensor(np.asarray(images)).permute(0, 3, 1, 2).flip(1).float()
    return (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)


def global_pool(feature_map: Tensor) -> Tensor:
    """(N, C, H, W) -> (N, C), the spatial mean."""
    return feature_map.flatten(2).mean(dim=2)


class PixelClassifier(nn.Module):
    """Per-pixel logits of a feature map: a 3 x 3 conv + BN + ReLU, a 1 x 1 conv to the
    classes, bilinear upsampling to the target's size (colorization, motion)."""

    def __init__(self, in_channels: int, hidden: int, num_classes: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, hidden, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(hidden)
        self.classifier = nn.Conv2d(hidden, num_classes, 1)

    def forward(self, feature_map: Tensor, size: int) -> Tensor:
        """(N, C, h, w) -> (N, classes, size, size) logits."""
        logits = self.classifier(F.relu(self.bn(self.conv(feature_map))))
        return F.interpolate(logits, size=(size, size), mode='bilinear', align_corners=False)


# mmssl's DenseClsHead keys -> PixelClassifier's, after the head's own prefix.
PIXEL_CLASSIFIER_KEYS = (('convs.0.', 'conv.'), ('convs.1.', 'bn.'),
                         ('convs.3.', 'classifier.'))


def rebalanced_nll(logits: Tensor, labels: Tensor, weights: Optional[Tensor],
                   normaliser: str) -> Tensor:
    """Colorization's loss: the sum over the pixels of v * (-log p(q*)), v = weights[q*]
    (1 without weights), divided by the pixel count ('pixels', Zhang et al.) or by the sum
    of v ('weights', mmssl). logits (N, Q, H, W), labels (N, H, W)."""
    nll = -logits.log_softmax(dim=1).gather(1, labels[:, None])[:, 0]  # (N, H, W)
    v = torch.ones_like(nll) if weights is None else weights[labels]
    return (v * nll).sum() / (labels.numel() if normaliser == 'pixels' else v.sum())


def moving_pixel_bce(logits: Tensor, masks: Tensor, unknown: int = 255) -> Tensor:
    """Motion segmentation's loss: the sigmoid cross-entropy of "moves" (the logit
    difference) per known pixel, averaged over them. logits (N, 2, H, W) [still, moving],
    masks (N, H, W) of 0/1 and ``unknown``."""
    known = masks != unknown
    moving_logit = (logits[:, 1] - logits[:, 0])[known]
    return F.binary_cross_entropy_with_logits(moving_logit, masks[known].float())


def copied_backbone(model: nn.Module) -> nn.Module:
    """A deep copy of ``model``'s backbone: the reference's trunk (its weights are loaded
    again by :func:`copy_weights` through the key rules)."""
    return copy.deepcopy(model.backbone)


def prefix_rules(pairs: Sequence[tuple[str, str]]) -> tuple[KeyRules, KeyRules]:
    """Key rules both ways from (mmssl prefix, reference prefix) pairs: (mmssl ->
    reference, reference -> mmssl). Keys matching no prefix keep their names."""
    forward = [('^' + re.escape(a), b) for a, b in pairs]
    backward = [('^' + re.escape(b), a) for a, b in pairs]
    return forward, backward


def mmssl_loss(model: nn.Module, batch: tuple[list[Tensor], list[DataSample]]) -> Tensor:
    """The total training loss of one batch, as mmengine's train step sums it (every
    ``*loss*`` entry of the loss dict)."""
    inputs, data_samples = batch
    return model.parse_losses(model(inputs, data_samples, mode='loss'))[0]


def check_parity(model: nn.Module, reference: nn.Module, model_batches: Sequence,
                 reference_batches: Sequence, reference_loss: Callable[[nn.Module, object],
                                                                       Tensor],
                 rules: tuple[KeyRules, KeyRules], lr: float = 0.05,
                 ignore: Sequence[str] = ()) -> None:
    """Copy ``model``'s state into ``reference``, train both one step per batch by SGD
    (momentum 0.9, weight decay 1e-4, ``lr``): mmssl on ``model_batches`` through
    :func:`mmssl_loss`, the reference on its own ``reference_batches`` through
    ``reference_loss``; assert the per-step losses and gradients, then the final state
    (weights and BN statistics), equal to 1e-5.

    rules: (mmssl -> reference, reference -> mmssl) key rules (:func:`prefix_rules`).
    ignore: patterns of more mmssl state without a counterpart.
    """
    to_reference, to_mmssl = rules
    ignore = PREPROCESSOR_STATE + tuple(ignore)
    copy_weights(model, reference, to_reference, ignore=ignore)
    reference.train()
    expected = train_steps(reference, reference_batches, reference_loss, sgd(reference, lr))
    actual = train_steps(model, model_batches, mmssl_loss, sgd(model, lr))
    assert_same_record(actual, expected, to_mmssl)
    assert_same_state(model, reference, to_mmssl, ignore=ignore)
