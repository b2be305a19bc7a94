import math

import pytest
import torch
from mmengine.optim import OptimWrapper

from mmssl.registry import MODELS
from tests._helpers import image_views
from tests._two_view import PLAIN_PREPROCESSOR, mlp, tiny_resnet, train_demo


def build_barlow_twins(lambd=0.0051):
    model = MODELS.build(dict(
        type='BarlowTwins', backbone=tiny_resnet(),
        neck=mlp(64, 32, 16, num_layers=3, with_avg_pool=True, with_last_bn=False),
        head=dict(type='BarlowTwinsHead', lambd=lambd),
        data_preprocessor=PLAIN_PREPROCESSOR))
    model.init_weights()
    return model


def test_loss_matches_the_cross_correlation_formula():
    torch.manual_seed(0)
    model = build_barlow_twins()
    views = image_views(6, size=16)
    loss = model.loss(views)['loss']

    with torch.no_grad():  # direct re-computation, same BN mode (train)
        z_a, z_b = (model.neck(model.backbone(v))[0] for v in views)
    n = z_a.shape[0]
    a = (z_a - z_a.mean(0)) / torch.sqrt(z_a.var(0, unbiased=False) + 1e-5)
    b = (z_b - z_b.mean(0)) / torch.sqrt(z_b.var(0, unbiased=False) + 1e-5)
    c = a.t() @ b / n
    on_diag = ((1 - torch.diagonal(c)) ** 2).sum()
    off_diag = (c ** 2).sum() - (torch.diagonal(c) ** 2).sum()
    assert loss.item() == pytest.approx((on_diag + 0.0051 * off_diag).item(), rel=1e-4)


def test_gradients_reach_every_part():
    model = build_barlow_twins()
    model.loss(image_views(6, size=16))['loss'].backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
    for part in (model.backbone, model.neck):
        assert any(p.grad.abs().sum() > 0 for p in part.parameters())


def test_a_few_steps_lower_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = build_barlow_twins()
    data = dict(inputs=image_views(8, size=16, seed=1), data_samples=None)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))
    first = model.train_step(data, optim)['loss'].item()
    for _ in range(4):
        last = model.train_step(data, optim)['loss'].item()
    assert last < 0.9 * first


def test_demo_config_trains_a_few_iterations(tmp_path, fashion_mnist_root):
    runner = train_demo('barlowtwins/barlowtwins_resnet18_1xb256-coslr-2e_fmnist.py',
                        str(tmp_path))
    assert runner.iter == 3
    assert math.isfinite(runner.message_hub.get_scalar('train/loss').current())
