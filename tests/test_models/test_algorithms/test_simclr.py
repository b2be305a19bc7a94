import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper

from mmssl.registry import MODELS
from tests._helpers import image_views, resnet18


def build_simclr(temperature=0.5):
    model = MODELS.build(dict(
        type='SimCLR', backbone=resnet18(),
        neck=dict(type='NonLinearNeck', in_channels=512, hid_channels=32, out_channels=16,
                  num_layers=2, with_avg_pool=True),
        head=dict(type='NTXentHead', temperature=temperature),
        data_preprocessor=dict(mean=[0, 0, 0], std=[1, 1, 1], to_rgb=False)))
    model.init_weights()
    return model


def test_loss_matches_nt_xent_over_the_2b_views():
    torch.manual_seed(0)
    model = build_simclr()
    views = image_views(4)
    loss = model.loss(views)['loss']
    with torch.no_grad():
        z = F.normalize(model.neck(model.backbone(torch.cat(views)))[0], dim=1)
    n, tau, expected = 4, 0.5, 0.0
    for i in range(2 * n):
        j = (i + n) % (2 * n)
        num = math.exp(float(z[i] @ z[j]) / tau)
        denom = sum(math.exp(float(z[i] @ z[k]) / tau) for k in range(2 * n) if k != i)
        expected -= math.log(num / denom)
    assert loss.item() == pytest.approx(expected / (2 * n), rel=1e-4)


def test_gradients_reach_every_trainable_part():
    model = build_simclr()
    model.loss(image_views(4))['loss'].backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name


def test_a_few_steps_lower_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = build_simclr()
    data = dict(inputs=image_views(8, seed=2), data_samples=None)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    first = model.train_step(data, optim)['loss'].item()
    for _ in range(5):
        last = model.train_step(data, optim)['loss'].item()
    assert last < first - 0.05
