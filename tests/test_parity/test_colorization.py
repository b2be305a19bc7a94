"""Parity of Colorization with colorful image colorization (Zhang, Isola & Efros 2016),
written out.

mmpretrain has no colorization: the reference is the paper's loss in plain torch, the
multinomial cross-entropy of every target pixel's quantised ab bin with the class
rebalancing weights v = w[q*] (eq. 2-4: w proportional to ((1 - lambda) p + lambda / Q)^-1,
normalised to E_p[w] = 1, lambda = 0.5), on the logits of a 3 x 3 conv + BN + ReLU and a
1 x 1 conv over the trunk's stage-3 map, bilinearly upsampled to the target. Both sides
take the same prepared inputs: mmssl's ``ColorizationViews`` (the L channel and the
``ab_label`` bins) through the data preprocessor.

The rebalanced loss is the official code's: v * CE summed over the pixels and divided by
their count (the paper's eq. 2 sums; PyTorch's weighted mean would divide by the sum of
the weights instead, which the last test shows mmssl does not do).
"""
from typing import Optional

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from tests._two_view import tiny_resnet
from tests.test_parity._parity import PREPROCESSOR_STATE, copy_weights
from tests.test_parity._pretext import (PIXEL_CLASSIFIER_KEYS, PixelClassifier,
                                        build_model, check_parity, copied_backbone,
                                        mmssl_batch, prefix_rules, random_images,
                                        rebalanced_nll)


SIZE, TARGET, BATCH, STEPS = 16, 8, 4, 3
STAGE3, HIDDEN, BINS = 32, 16, 484  # the tiny ResNet's stage-3 channels; 22 x 22 ab bins
REBALANCE_LAMBDA = 0.5


def rebalancing_weights(labels: Tensor, num_bins: int = BINS,
                        lam: float = REBALANCE_LAMBDA) -> Tensor:
    """Zhang et al.'s class rebalancing (eq. 4) from the empirical bin distribution p of
    ``labels``: w = ((1 - lam) p + lam / Q)^-1, scaled so that sum_q p_q w_q = 1."""
    prior = torch.bincount(labels.flatten(), minlength=num_bins).double()
    prior /= prior.sum()
    weights = 1.0 / ((1 - lam) * prior + lam / num_bins)
    return (weights / (prior * weights).sum()).float()


class ColorizationNetwork(nn.Module):
    """The trunk (stage 3) and a per-pixel classifier over the Q ab bins."""

    def __init__(self, trunk: nn.Module) -> None:
        super().__init__()
        self.trunk = trunk
        self.head = PixelClassifier(STAGE3, HIDDEN, BINS)

    def forward(self, x: Tensor, size: int) -> Tensor:
        """(N, 3, H, W) -> (N, Q, size, size) logits."""
        return self.head(self.trunk(x)[-1], size)


def colorization_loss(model: ColorizationNetwork, batch: tuple, weights: Optional[Tensor],
                      normaliser: str) -> Tensor:
    """:func:`rebalanced_nll` of the network's logits for a (view, labels) batch."""
    view, labels = batch
    return rebalanced_nll(model(view, labels.shape[-1]), labels, weights, normaliser)


def batches(model) -> tuple[list, list]:
    """STEPS mmssl batches of ``ColorizationViews`` and the same (view, labels) for the
    reference."""
    pipeline = [dict(type='ColorizationViews', target_size=TARGET)]
    model_batches, reference_batches = [], []
    for step in range(STEPS):
        inputs, samples = mmssl_batch(model, pipeline, random_images(BATCH, SIZE, step),
                                      algorithm_keys=('ab_label',))
        labels = torch.stack([torch.as_tensor(s.ab_label) for s in samples]).long()
        model_batches.append((inputs, samples))
        reference_batches.append((inputs[0], labels))
    return model_batches, reference_batches


def build(weights: Optional[Tensor]) -> nn.Module:
    """mmssl's Colorization on the tiny ResNet's stage-3 map, rebalanced by ``weights``."""
    class_weights = None if weights is None else weights.tolist()
    return build_model(dict(
        type='Colorization', backbone=dict(tiny_resnet(), out_indices=(2,)),
        head=dict(type='ColorizationHead', in_channels=STAGE3, num_bins=BINS,
                  hid_channels=HIDDEN, class_weights=class_weights)))


RULES = prefix_rules([('backbone.', 'trunk.')] + [
    ('head.' + a, 'head.' + b) for a, b in PIXEL_CLASSIFIER_KEYS])


def prior_weights() -> Tensor:
    """Rebalancing weights from the labels of the test's batches."""
    _, reference_batches = batches(build(None))
    return rebalancing_weights(torch.cat([labels for _, labels in reference_batches]))


@pytest.mark.parametrize('rebalanced', [False, True])
def test_colorization_matches_the_per_pixel_cross_entropy(rebalanced):
    weights = prior_weights() if rebalanced else None
    model = build(weights)
    reference = ColorizationNetwork(copied_backbone(model))
    model_batches, reference_batches = batches(model)
    assert len(torch.cat([labels for _, labels in reference_batches]).unique()) > 5
    check_parity(model, reference, model_batches, reference_batches,
                 lambda net, batch: colorization_loss(net, batch, weights, 'pixels'), RULES)


def test_rebalanced_loss_divides_by_the_pixels_not_the_weights():
    """Not PyTorch's weighted mean (the paper's times #pixels / sum(v))."""
    weights = prior_weights()
    model = build(weights)
    reference = ColorizationNetwork(copied_backbone(model))
    model_batches, reference_batches = batches(model)
    copy_weights(model, reference, RULES[0], ignore=PREPROCESSOR_STATE)
    view, labels = reference_batches[0]
    with torch.no_grad():  # the same state and batch (BN in training mode on both)
        mmssl = model.loss(*model_batches[0])['loss']
        paper = colorization_loss(reference, (view, labels), weights, 'pixels')
    ratio = labels.numel() / weights[labels].sum()
    assert abs(ratio - 1) > 0.01  # a batch whose weights do not average 1
    np.testing.assert_allclose(mmssl.item(), paper.item(), rtol=1e-5)
    assert abs(mmssl - paper * ratio) > 1e-3
