"""Exemplar: MoCo's end-to-end parts with the triplet ranking loss."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper

from mmssl.models.losses import triplet_ranking
from mmssl.registry import MODELS
from tests._helpers import image_views, resnet18


def build_exemplar(margin=0.5):
    model = MODELS.build(dict(
        type='Exemplar', backbone=resnet18(),
        neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=32, out_channels=16,
                  with_avg_pool=True),
        head=dict(type='TripletRankingHead', margin=margin), bn_splits=1,
        data_preprocessor=dict(mean=[0, 0, 0], std=[1, 1, 1], to_rgb=False)))
    model.init_weights()
    return model


def test_defaults_are_the_end_to_end_parts_and_the_ranking_loss():
    model = MODELS.build(dict(
        type='Exemplar', backbone=resnet18(),
        neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=32, out_channels=16,
                  with_avg_pool=True)))
    assert type(model.dictionary).__name__ == 'InBatchKeys'
    assert type(model.head).__name__ == 'TripletRankingHead' and model.head.margin == 0.5
    assert model.momentum_backbone is None


def test_loss_is_the_cosine_ranking_loss_over_in_batch_negatives():
    torch.manual_seed(0)
    model = build_exemplar()
    views = image_views(4)
    loss = model.loss(views)['loss']
    with torch.no_grad():
        q = F.normalize(model.project(views[0]), dim=1)
        k = F.normalize(model.project(views[1]), dim=1)
    expected = []
    for i in range(4):  # D the cosine distance; negatives: the other images' keys
        for j in range(4):
            if j != i:
                d_pos, d_neg = 1 - float(q[i] @ k[i]), 1 - float(q[i] @ k[j])
                expected.append(max(0.0, d_pos - d_neg + 0.5))
    assert loss.item() == pytest.approx(sum(expected) / len(expected), rel=1e-4)


def test_triplet_ranking_with_explicit_negatives_and_a_mask():
    gen = torch.Generator().manual_seed(0)
    q, p = (F.normalize(torch.randn(3, 8, generator=gen), dim=1) for _ in range(2))
    negs = F.normalize(torch.randn(3, 2, 8, generator=gen), dim=2)
    expected = torch.stack([(negs[i, j] @ q[i] - q[i] @ p[i] + 0.3).clamp(min=0)
                            for i in range(3) for j in range(2)]).mean()
    assert torch.allclose(triplet_ranking(q, p, negs, 0.3), expected, atol=1e-6)
    valid = torch.tensor([[True, False], [False, False], [True, True]])
    masked = torch.stack([(negs[i, j] @ q[i] - q[i] @ p[i] + 0.3).clamp(min=0)
                          for i in range(3) for j in range(2) if valid[i, j]]).mean()
    assert torch.allclose(triplet_ranking(q, p, negs, 0.3, valid), masked, atol=1e-6)
    # far-apart negatives and matching positives cost nothing
    assert triplet_ranking(q, q, -q[:, None], 0.5) == 0


def test_gradients_reach_the_encoder_through_both_views():
    model = build_exemplar()
    model.loss(image_views(4))['loss'].backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
    assert any(p.grad.abs().sum() > 0 for p in model.backbone.parameters())


def test_a_few_steps_lower_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = build_exemplar()
    data = dict(inputs=image_views(8, seed=1), data_samples=None)

    def objective():
        model.eval()  # fixed BN statistics: the loss is a function of the weights alone
        with torch.no_grad():
            value = model.loss(data['inputs'])['loss'].item()
        model.train()
        return value

    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    for _ in range(2):  # settle the BN running statistics on the batch
        with torch.no_grad():
            model.loss(data['inputs'])
    start = objective()
    for _ in range(6):
        model.train_step(data, optim)
    assert objective() < start - 0.02
