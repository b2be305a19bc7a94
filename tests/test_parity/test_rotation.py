"""Parity of RotationPred with RotNet (Gidaris, Singh & Komodakis 2018), written out.

mmpretrain has no rotation prediction: the reference is the paper's algorithm in plain
torch. The mmssl side gets its views from its own pipeline (``FourRotations``, the data
preprocessor); the reference rotates the decoded images itself, as the official code
does (transposes and flips), image by image.
"""
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tests.test_parity._pretext import (build_model, check_parity, copied_backbone,
                                        global_pool, mmssl_batch, normalised, prefix_rules,
                                        random_images)


SIZE, BATCH, STEPS = 16, 4, 3
FEATURES = 64  # the tiny ResNet's last stage


def rotations(x: Tensor) -> list[Tensor]:
    """(N, C, H, W) -> its rotations by 0, 90, 180 and 270 degrees counter-clockwise, by
    the official RotNet code's transposes and flips (label k = k * 90 degrees)."""
    return [x, x.transpose(2, 3).flip(2), x.flip(2).flip(3), x.flip(2).transpose(2, 3)]


class RotNet(nn.Module):
    """The trunk, global average pooling and a linear 4-way rotation classifier."""

    def __init__(self, trunk: nn.Module) -> None:
        super().__init__()
        self.trunk = trunk
        self.classifier = nn.Linear(FEATURES, 4)

    def forward(self, x: Tensor) -> Tensor:
        """(B, 3, H, W) -> (B, 4) logits."""
        return self.classifier(global_pool(self.trunk(x)[-1]))


def rotnet_loss(model: RotNet, images) -> Tensor:
    """Cross-entropy over all four rotations of every image, in one batch, image-major
    (each image's 4 rotations together, labels 0..3), as the official data loader."""
    views = torch.stack(rotations(normalised(images)), dim=1)  # (N, 4, 3, H, W)
    labels = torch.arange(4).repeat(views.shape[0])
    return F.cross_entropy(model(views.flatten(0, 1)), labels)


def test_rotation_prediction_matches_rotnet():
    model = build_model(dict(type='RotationPred',
                             head=dict(type='PretextClsHead', in_channels=FEATURES,
                                       num_classes=4)))
    reference = RotNet(copied_backbone(model))
    images = [random_images(BATCH, SIZE, seed) for seed in range(STEPS)]
    batches = [mmssl_batch(model, [dict(type='FourRotations')], batch) for batch in images]
    rules = prefix_rules([('backbone.', 'trunk.'), ('head.fc.', 'classifier.')])
    check_parity(model, reference, batches, images, rotnet_loss, rules)
