"""Parity of RelativeLoc with context prediction (Doersch, Gupta & Efros 2015), written out.

mmpretrain has no relative location task: the reference is the paper's algorithm in plain
torch. The mmssl side gets its patch pairs from its own pipeline (``RelativeLocPatches``,
the data preprocessor); the reference cuts the centre patch and the labelled neighbour
from the decoded image itself. The image is exactly the grid's size and the jitter 0, so
the grid's place is fixed and the reference needs only the label.
"""
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tests.test_parity._pretext import (build_model, check_parity, copied_backbone,
                                        global_pool, mmssl_batch, normalised, prefix_rules,
                                        random_images)


PATCH, GAP = 6, 2
SIZE = 3 * PATCH + 2 * GAP  # the 3 x 3 grid fills the image
BATCH, STEPS = 8, 3
FEATURES, FC6, FC7 = 64, 16, 16
# The paper's 8 positions of the second patch around the first, numbered row by row
# (Doersch et al., Fig. 2): (row, column) offsets in grid cells.
POSITIONS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


def grid_patch(image: Tensor, row: int, col: int) -> Tensor:
    """The (3, PATCH, PATCH) patch of grid cell (row, col) of a (3, SIZE, SIZE) image."""
    top, left = row * (PATCH + GAP), col * (PATCH + GAP)
    return image[:, top:top + PATCH, left:left + PATCH]


class ContextPrediction(nn.Module):
    """The trunk per patch, fc6 per patch (shared), fc7 on the concatenation, fc8 to the
    8 positions; fc6/fc7 with BN and ReLU (the mmssl head's ``with_bn``)."""

    def __init__(self, trunk: nn.Module) -> None:
        super().__init__()
        self.trunk = trunk
        self.fc6 = nn.Linear(FEATURES, FC6, bias=False)
        self.bn6 = nn.BatchNorm1d(FC6)
        self.fc7 = nn.Linear(2 * FC6, FC7, bias=False)
        self.bn7 = nn.BatchNorm1d(FC7)
        self.fc8 = nn.Linear(FC7, 8)

    def forward(self, pairs: Tensor) -> Tensor:
        """(N, 2, 3, h, w) [first, second] patch pairs -> (N, 8) logits."""
        n = pairs.shape[0]
        feats = global_pool(self.trunk(pairs.flatten(0, 1))[-1])  # (2N, C), image-major
        fc6 = F.relu(self.bn6(self.fc6(feats))).reshape(n, 2 * FC6)
        return self.fc8(F.relu(self.bn7(self.fc7(fc6))))


def context_loss(model: ContextPrediction, batch: tuple) -> Tensor:
    """Cross-entropy of the position of each image's labelled neighbour patch."""
    images, labels = batch
    x = normalised(images)
    pairs = []
    for image, label in zip(x, labels.tolist()):
        d_row, d_col = POSITIONS[label]
        pairs.append(torch.stack([grid_patch(image, 1, 1),
                                  grid_patch(image, 1 + d_row, 1 + d_col)]))
    return F.cross_entropy(model(torch.stack(pairs)), labels)


def test_relative_location_matches_context_prediction():
    model = build_model(dict(type='RelativeLoc', head=dict(
        type='PretextClsHead', in_channels=FEATURES, num_classes=8, num_parts=2,
        part_channels=[FC6], hid_channels=[FC7], with_bn=True)))
    reference = ContextPrediction(copied_backbone(model))
    pipeline = [dict(type='RelativeLocPatches', patch=PATCH, gap=GAP, jitter=0)]
    model_batches, reference_batches = [], []
    for step in range(STEPS):
        images = random_images(BATCH, SIZE, seed=step)
        inputs, samples = mmssl_batch(model, pipeline, images, seed=step)
        labels = torch.cat([torch.as_tensor(s.pretext_label) for s in samples])
        model_batches.append((inputs, samples))
        reference_batches.append((images, labels))
    assert len(set(torch.cat([b[1] for b in reference_batches]).tolist())) >= 6
    rules = prefix_rules([
        ('backbone.', 'trunk.'), ('head.part_layers.0.', 'fc6.'),
        ('head.part_layers.1.', 'bn6.'), ('head.hid_layers.0.', 'fc7.'),
        ('head.hid_layers.1.', 'bn7.'), ('head.fc.', 'fc8.')])
    check_parity(model, reference, model_batches, reference_batches, context_loss, rules)
