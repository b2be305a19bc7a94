"""Parity of Exemplar with the exemplar task as Doersch & Zisserman (2017) train it, written
out below in plain torch: two augmentations of each image through one encoder (with
gradients on both), and Wang & Gupta's ranking loss with the cosine distance D,
``max(0, D(q_i, k_i) - D(q_i, k_j) + margin)``, averaged over every image i of the batch
and every other image j as the negative.
"""
import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmssl.registry import MODELS
from tests._helpers import image_views
from tests._two_view import PLAIN_PREPROCESSOR, tiny_resnet
from tests.test_parity._parity import (assert_same_record, assert_same_state, copy_weights,
                                       train_steps)


# The margin is smaller than the paper's 0.5, at which every pair of this tiny untrained
# encoder violates it: so that the hinge is active for some pairs and not for others.
BATCH, MARGIN, STEPS = 8, 0.05, 4
NECK = dict(type='MoCoV2Neck', in_channels=64, hid_channels=32, out_channels=16,
            with_avg_pool=True)
NOT_IN_REFERENCE = [r'data_preprocessor\.']


def exemplar_ranking_loss(query: Tensor, key: Tensor, margin: float) -> Tensor:
    """query, key: (N, D) L2-normalised embeddings of the two augmentations of N images."""
    distance = 1 - query @ key.t()  # (N, N): D(q_i, k_j)
    hinge = (distance.diagonal().unsqueeze(1) - distance + margin).clamp(min=0)
    negatives = ~torch.eye(len(query), dtype=torch.bool)  # j != i
    return hinge[negatives].mean()


class ExemplarReference(nn.Module):
    """A copy of the encoder (backbone + neck) trained by :func:`exemplar_ranking_loss`."""

    def __init__(self, backbone: nn.Module, neck: nn.Module) -> None:
        super().__init__()
        self.backbone, self.neck = backbone, neck

    def embed(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, D) L2-normalised."""
        return F.normalize(self.neck(self.backbone(x))[0], dim=1)

    def forward(self, views: list[Tensor]) -> Tensor:
        return exemplar_ranking_loss(self.embed(views[0]), self.embed(views[1]), MARGIN)


def build_exemplar() -> nn.Module:
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='Exemplar', backbone=tiny_resnet(),
        neck=NECK, head=dict(type='TripletRankingHead', margin=MARGIN),
        bn_splits=1,  # plain BN: the exemplar task has no Shuffling BN
        data_preprocessor=PLAIN_PREPROCESSOR))
    model.init_weights()
    return model.train()


def sgd(model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)


def test_training_matches_the_ranking_loss_over_the_batch():
    model = build_exemplar()
    reference = ExemplarReference(MODELS.build(tiny_resnet()), MODELS.build(NECK)).train()
    copy_weights(model, reference, [], ignore=NOT_IN_REFERENCE)
    steps = [image_views(BATCH, size=16, seed=i) for i in range(STEPS)]

    # The hinge is active for some pairs and not for others, so its clamp is exercised.
    with torch.no_grad():
        probe = copy.deepcopy(reference)
        distance = 1 - probe.embed(steps[0][0]) @ probe.embed(steps[0][1]).t()
        hinge = distance.diagonal().unsqueeze(1) - distance + MARGIN
        off_diagonal = hinge[~torch.eye(BATCH, dtype=torch.bool)]
        assert (off_diagonal > 0).any() and (off_diagonal < 0).any()

    actual = train_steps(model, steps, lambda m, views: m.loss(views)['loss'], sgd(model))
    expected = train_steps(reference, steps, lambda m, views: m(views), sgd(reference))

    assert_same_record(actual, expected)
    # weights and the BN statistics of the encoder
    assert_same_state(model, reference, [], ignore=NOT_IN_REFERENCE)
