"""Parity of TransitiveInvariance with the triplet network of Wang, He & Gupta (2017),
written out.

mmpretrain has no transitive invariance: the reference is the paper's ranking loss in
plain torch, max(0, D(a, p) - D(a, n) + margin) with the cosine distance D = 1 - cos,
on an embedding (the trunk, pooled, fc + BN + ReLU, fc + BN); all three views pass the
shared network as one batch. Both sides take the same prepared triplets (the graph
mining happens offline). With ``in_batch_negatives`` every anchor is ranked against
every triplet's negative (mmssl's option; the paper samples one negative per pair).
"""
import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tests.test_parity._pretext import (build_model, check_parity, copied_backbone,
                                        global_pool, prefix_rules)


SIZE, BATCH, STEPS = 16, 6, 3
FEATURES, HIDDEN, EMBEDDING = 64, 32, 16
MARGIN = 0.5


class TripletNetwork(nn.Module):
    """The shared embedding: trunk, pooling, fc0 + BN + ReLU, fc1 + BN."""

    def __init__(self, trunk: nn.Module) -> None:
        super().__init__()
        self.trunk = trunk
        self.fc0 = nn.Linear(FEATURES, HIDDEN, bias=False)
        self.bn0 = nn.BatchNorm1d(HIDDEN)
        self.fc1 = nn.Linear(HIDDEN, EMBEDDING, bias=False)
        self.bn1 = nn.BatchNorm1d(EMBEDDING)

    def forward(self, x: Tensor) -> Tensor:
        """(B, 3, H, W) -> (B, EMBEDDING)."""
        hidden = F.relu(self.bn0(self.fc0(global_pool(self.trunk(x)[-1]))))
        return self.bn1(self.fc1(hidden))


def ranking_loss(model: TripletNetwork, views: list[Tensor], in_batch: bool,
                 active: list[float]) -> Tensor:
    """The mean hinge over the triplets (or every anchor x every negative); the share
    of active hinges is appended to ``active``."""
    anchor, positive, negative = model(torch.cat(views)).split(BATCH)
    d_ap = 1 - F.cosine_similarity(anchor, positive, dim=1)[:, None]  # (N, 1)
    if in_batch:
        d_an = 1 - F.cosine_similarity(anchor[:, None], negative[None], dim=2)  # (N, N)
    else:
        d_an = 1 - F.cosine_similarity(anchor, negative, dim=1)[:, None]
    hinge = F.relu(d_ap - d_an + MARGIN)
    active.append((hinge > 0).float().mean().item())
    return hinge.mean()


@pytest.mark.parametrize('in_batch', [False, True])
def test_transitive_invariance_matches_the_ranking_loss(in_batch):
    model = build_model(dict(
        type='TransitiveInvariance', in_batch_negatives=in_batch,
        neck=dict(type='NonLinearNeck', in_channels=FEATURES, hid_channels=HIDDEN,
                  out_channels=EMBEDDING, num_layers=2, with_avg_pool=True,
                  norm_cfg=dict(type='BN1d')),
        head=dict(type='TripletRankingHead', margin=MARGIN)))
    reference = TripletNetwork(copied_backbone(model))
    gen = torch.Generator().manual_seed(0)
    triplets = [[torch.randn(BATCH, 3, SIZE, SIZE, generator=gen) for _ in range(3)]
                for _ in range(STEPS)]
    embedding = [(f'neck.{name}.', f'{name}.') for name in ('fc0', 'bn0', 'fc1', 'bn1')]
    rules = prefix_rules([('backbone.', 'trunk.')] + embedding)
    active = []
    check_parity(model, reference, [(views, None) for views in triplets], triplets,
                 lambda net, views: ranking_loss(net, views, in_batch, active), rules)
    assert min(active) < 1 and max(active) > 0, active  # the hinge is on and off
