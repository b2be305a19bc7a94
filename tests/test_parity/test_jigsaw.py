"""Parity of Jigsaw with the context-free network (Noroozi & Favaro 2016), written out.

mmpretrain has no jigsaw task: the reference is the paper's algorithm in plain torch. The
mmssl side gets its shuffled tiles from its own pipeline (``JigsawTiles``, the data
preprocessor); the reference cuts the 9 tiles from the decoded image, orders them by the
labelled permutation (view k = the tile at grid position p[k], as the official loader
does) and normalises every tile on its own, as the official loader does (per channel,
unbiased std, a zero std replaced by 1). The image is exactly the grid's size and the
jitter 0, so the grid's place is fixed and the reference needs only the label.
"""
import os.path as osp

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tests._helpers import REPO_ROOT
from tests.test_parity._pretext import (build_model, check_parity, copied_backbone,
                                        global_pool, mmssl_batch, normalised, prefix_rules,
                                        random_images)


PERMUTATIONS = osp.join(REPO_ROOT, 'configs/jigsaw/permutations_100_maxmin-hamming.npy')
TILE, GAP = 6, 2
SIZE = 3 * TILE + 2 * GAP  # the 3 x 3 grid fills the image
BATCH, STEPS = 4, 3
FEATURES, FC6, FC7 = 64, 16, 32
PIPELINE = [dict(type='JigsawTiles', permutations=PERMUTATIONS, tile=TILE, gap=GAP, jitter=0)]
# mmssl divides each tile by its std + 1e-5 (the intended difference): with the official
# normalisation the first conv's gradients differ by up to 2e-5 within the 3 steps.
MMSSL_STD_EPS = 1e-5


def tiles_in_grid_order(image: Tensor) -> list[Tensor]:
    """The 9 (3, TILE, TILE) tiles of a (3, SIZE, SIZE) image, row by row."""
    step = TILE + GAP
    return [image[:, r * step:r * step + TILE, c * step:c * step + TILE]
            for r in range(3) for c in range(3)]


def normalise_tile(tile: Tensor, std_eps: float = 0.0) -> Tensor:
    """The official loader's per-tile normalisation: each channel to zero mean and unit
    (unbiased) std, a channel of std 0 divided by 1; ``std_eps`` is added to the std
    (mmssl's :data:`MMSSL_STD_EPS`; the official code adds none)."""
    flat = tile.reshape(tile.shape[0], -1)
    mean, std = flat.mean(dim=1), flat.std(dim=1)
    std = torch.where(std == 0, torch.ones_like(std), std) + std_eps
    return (tile - mean.view(-1, 1, 1)) / std.view(-1, 1, 1)


class ContextFreeNetwork(nn.Module):
    """The trunk per tile, fc6 per tile (shared), fc7 on the 9 concatenated, fc8 to the
    permutations; fc6/fc7 with BN and ReLU (the mmssl head's ``with_bn``)."""

    def __init__(self, trunk: nn.Module, num_permutations: int) -> None:
        super().__init__()
        self.trunk = trunk
        self.fc6 = nn.Linear(FEATURES, FC6, bias=False)
        self.bn6 = nn.BatchNorm1d(FC6)
        self.fc7 = nn.Linear(9 * FC6, FC7, bias=False)
        self.bn7 = nn.BatchNorm1d(FC7)
        self.fc8 = nn.Linear(FC7, num_permutations)

    def forward(self, tiles: Tensor) -> Tensor:
        """(N, 9, 3, t, t) shuffled tiles -> (N, P) logits."""
        n = tiles.shape[0]
        feats = global_pool(self.trunk(tiles.flatten(0, 1))[-1])  # (9N, C), image-major
        fc6 = F.relu(self.bn6(self.fc6(feats))).reshape(n, 9 * FC6)
        return self.fc8(F.relu(self.bn7(self.fc7(fc6))))


def jigsaw_loss(model: ContextFreeNetwork, batch: tuple, permutations: np.ndarray) -> Tensor:
    """Cross-entropy of the permutation index that shuffled each image's tiles."""
    images, labels = batch
    puzzles = []
    for image, label in zip(normalised(images), labels.tolist()):
        tiles = tiles_in_grid_order(image)
        puzzles.append(torch.stack([normalise_tile(tiles[k], MMSSL_STD_EPS)
                                    for k in permutations[label]]))
    return F.cross_entropy(model(torch.stack(puzzles)), labels)


def test_jigsaw_matches_the_context_free_network():
    permutations = np.load(PERMUTATIONS)
    model = build_model(dict(type='Jigsaw', head=dict(
        type='PretextClsHead', in_channels=FEATURES, num_classes=len(permutations),
        num_parts=9, part_channels=[FC6], hid_channels=[FC7], with_bn=True)))
    reference = ContextFreeNetwork(copied_backbone(model), len(permutations))
    model_batches, reference_batches = [], []
    for step in range(STEPS):
        images = random_images(BATCH, SIZE, seed=step)
        inputs, samples = mmssl_batch(model, PIPELINE, images, seed=step)
        labels = torch.cat([torch.as_tensor(s.pretext_label) for s in samples])
        model_batches.append((inputs, samples))
        reference_batches.append((images, labels))
    rules = prefix_rules([
        ('backbone.', 'trunk.'), ('head.part_layers.0.', 'fc6.'),
        ('head.part_layers.1.', 'bn6.'), ('head.hid_layers.0.', 'fc7.'),
        ('head.hid_layers.1.', 'bn7.'), ('head.fc.', 'fc8.')])
    check_parity(model, reference, model_batches, reference_batches,
                 lambda net, batch: jigsaw_loss(net, batch, permutations), rules)


def test_tiles_differ_from_the_official_normalisation_by_the_std_epsilon_only():
    """The intended difference: the tiles mmssl's backbone sees are the official ones
    with std + 1e-5, a relative change of about 1e-5 / std."""
    permutations = np.load(PERMUTATIONS)
    model = build_model(dict(type='Jigsaw', head=dict(
        type='PretextClsHead', in_channels=FEATURES, num_classes=len(permutations),
        num_parts=9)))
    images = random_images(BATCH, SIZE, seed=0)
    inputs, samples = mmssl_batch(model, PIPELINE, images)
    seen = []
    model.backbone.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    with torch.no_grad():
        model.loss(inputs, samples)
    labels = [int(s.pretext_label[0]) for s in samples]

    def puzzles(std_eps: float) -> Tensor:  # (9N, 3, t, t), view-major as mmssl's batch
        tiles = [tiles_in_grid_order(image) for image in normalised(images)]
        return torch.stack([normalise_tile(tiles[i][permutations[label][k]], std_eps)
                            for k in range(9) for i, label in enumerate(labels)])
    official, with_eps = puzzles(0.0), puzzles(MMSSL_STD_EPS)
    torch.testing.assert_close(seen[0], with_eps, rtol=1e-6, atol=1e-6)
    relative = ((seen[0] - official).abs() / official.abs().clamp_min(0.1)).max()
    assert 1e-6 < relative < 2 * MMSSL_STD_EPS, relative
