"""Parity of Counting with learning to count (Noroozi, Pirsiavash & Favaro 2017), written out.

mmpretrain has no counting task: the reference is the paper's algorithm in plain torch,

    l(x, y) = |phi(D x) - sum_j phi(T_j x)|^2 + max(0, M - |phi(D y) - sum_j phi(T_j x)|^2),

with the paper's phi: the trunk, pooled, then fully connected layers with a ReLU after
each, the last ReLU's output the count vector (no BN). The mmssl side gets its five views
from its own pipeline (``CountingViews`` with the nearest filter and no grey, the data
preprocessor); the reference downsamples (every second pixel: nearest, exactly 2x) and
cuts the four quarter tiles itself. y of image i is image i - 1 of the batch.

Intended difference, shown by the last test: mmssl's ``with_last_bn`` option puts a BN
(without affine parameters) between the last layer and the counts' ReLU, against the
trivial phi = 0; it equals the paper's phi with that BN inserted. (Its losses are ~50
here, where float32 resolves ~4e-6: it is compared at one step, relatively.)
"""
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tests.test_parity._parity import PREPROCESSOR_STATE, copy_weights
from tests.test_parity._pretext import (build_model, check_parity, copied_backbone,
                                        global_pool, mmssl_batch, normalised, prefix_rules,
                                        random_images)


SIZE, BATCH, STEPS = 16, 4, 3
FEATURES, HIDDEN, COUNTS = 64, 32, 16
MARGIN = 10.0


class CountingNetwork(nn.Module):
    """phi: the trunk, global average pooling, fc7 + ReLU, fc8 (+ BN without affine
    parameters with ``last_bn``, not the paper's) + ReLU: the counts."""

    def __init__(self, trunk: nn.Module, last_bn: bool = False) -> None:
        super().__init__()
        self.trunk = trunk
        self.fc7 = nn.Linear(FEATURES, HIDDEN)
        self.fc8 = nn.Linear(HIDDEN, COUNTS)
        self.last_bn = nn.BatchNorm1d(COUNTS, affine=False) if last_bn else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        """(B, 3, h, w) -> (B, K) non-negative counts."""
        hidden = F.relu(self.fc7(global_pool(self.trunk(x)[-1])))
        return F.relu(self.last_bn(self.fc8(hidden)))


def counting_terms(model: CountingNetwork, images) -> tuple[Tensor, Tensor]:
    """The two terms of the loss per image, (N,) each: the squared distance of the
    downsampled image's counts to the sum of its tiles' counts, and the hinge of the
    other image y's."""
    x = normalised(images)
    n, half = x.shape[0], x.shape[2] // 2
    down = x[:, :, ::2, ::2]
    tiles = [x[:, :, r:r + half, c:c + half] for r in (0, half) for c in (0, half)]
    counts = model(torch.cat([down] + tiles))  # one batch: BN statistics over all views
    phi_down, phi_tiles = counts[:n], counts[n:].reshape(4, n, -1)
    tile_sum = phi_tiles.sum(dim=0)
    phi_other = phi_down[(torch.arange(n) - 1) % n]  # y_i = x_{i-1}
    same = (phi_down - tile_sum).pow(2).sum(dim=1)
    other = F.relu(MARGIN - (phi_other - tile_sum).pow(2).sum(dim=1))
    return same, other


PIPELINE = [dict(type='CountingViews', interpolations=['nearest'], grayscale_prob=0.0)]
RULES = prefix_rules([('backbone.', 'trunk.'), ('head.hid_layers.0.', 'fc7.'),
                      ('head.fc.', 'fc8.'), ('head.last_bn.', 'last_bn.')])


def build(last_bn: bool) -> nn.Module:
    """mmssl's Counting with phi's options given explicitly (the paper's: no BN)."""
    return build_model(dict(type='Counting', head=dict(
        type='CountingHead', in_channels=FEATURES, count_channels=COUNTS,
        hid_channels=[HIDDEN], with_bn=False, with_last_bn=last_bn, margin=MARGIN)))


def test_counting_matches_learning_to_count_with_the_papers_phi():
    model = build(last_bn=False)
    reference = CountingNetwork(copied_backbone(model))
    images = [random_images(BATCH, SIZE, seed) for seed in range(STEPS)]
    batches = [mmssl_batch(model, PIPELINE, batch, algorithm_keys=()) for batch in images]
    hinges_active = []

    def counting_loss(net: CountingNetwork, batch) -> Tensor:
        """The mean over the batch of the two terms."""
        same, other = counting_terms(net, batch)
        hinges_active.append(int((other > 0).sum()))
        return (same + other).mean()

    check_parity(model, reference, batches, images, counting_loss, RULES)
    # both terms took part: at every step the hinge was active for some images
    assert all(active > 0 for active in hinges_active), hinges_active


def test_bn_before_the_counts_is_the_papers_phi_with_a_bn_inserted():
    model = build(last_bn=True)
    images = random_images(BATCH, SIZE, seed=0)
    batch = mmssl_batch(model, PIPELINE, images, algorithm_keys=())
    losses = {}
    for last_bn in (True, False):
        reference = CountingNetwork(copied_backbone(model), last_bn)
        copy_weights(model, reference, RULES[0],
                     ignore=PREPROCESSOR_STATE + (() if last_bn else (r'head\.last_bn\.',)))
        with torch.no_grad():
            same, other = counting_terms(reference.train(), images)
        losses[last_bn] = (same + other).mean()
    with torch.no_grad():
        loss = model.loss(*batch)['loss']
    torch.testing.assert_close(loss, losses[True], rtol=1e-6, atol=0)
    assert (loss - losses[False]).abs() > 1.0  # not the paper's phi
