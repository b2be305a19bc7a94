import math

import pytest
import torch
from mmengine.optim import OptimWrapper

from mmssl.registry import MODELS
from tests._helpers import image_views
from tests._two_view import PLAIN_PREPROCESSOR, mlp, tiny_resnet, train_demo


def build_simsiam():
    model = MODELS.build(dict(
        type='SimSiam', backbone=tiny_resnet(),
        neck=mlp(64, 32, 32, num_layers=3, with_avg_pool=True, with_last_bn_affine=False),
        head=dict(type='PredictorHead',
                  predictor=mlp(32, 8, 32, with_last_bn=False, with_last_bias=True),
                  loss=dict(type='CosineRegressionHead', loss='negative_cosine',
                            loss_weight=0.5)),
        data_preprocessor=PLAIN_PREPROCESSOR))
    model.init_weights()
    return model


def _cos(u, v):
    return float(u @ v) / (float(u.norm()) * float(v.norm()))


def test_loss_is_half_the_negative_cosine_of_each_view_order():
    """L = D(p1, sg(z2)) / 2 + D(p2, sg(z1)) / 2, D = -cos averaged over the batch."""
    torch.manual_seed(0)
    model = build_simsiam()
    views = image_views(4, size=16)
    loss = model.loss(views)['loss']

    with torch.no_grad():  # direct re-computation, same BN mode (train)
        z = [model.neck(model.backbone(v))[0] for v in views]
        p = [model.head.predictor((z_v, ))[0] for z_v in z]
    expected = sum(-_cos(p[0][i], z[1][i]) / 2 - _cos(p[1][i], z[0][i]) / 2
                   for i in range(4)) / 4
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert -1 <= loss.item() <= 1


def test_gradients_reach_every_part_and_there_is_no_target_network():
    model = build_simsiam()
    model.loss(image_views(4, size=16))['loss'].backward()
    for name, param in model.named_parameters():
        assert not name.startswith('momentum_')
        assert param.grad is not None, name
    for part in (model.backbone, model.neck, model.head.predictor):
        assert any(p.grad.abs().sum() > 0 for p in part.parameters())


def test_a_few_steps_lower_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = build_simsiam()
    views = image_views(8, size=16, seed=1)
    data = dict(inputs=views, data_samples=None)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    first = model.train_step(data, optim)['loss'].item()
    for _ in range(4):
        last = model.train_step(data, optim)['loss'].item()
    assert last < first - 0.05


def test_demo_config_trains_with_the_predictor_at_a_fixed_lr(tmp_path, fashion_mnist_root):
    runner = train_demo('simsiam/simsiam_resnet18_1xb256-coslr-2e_fmnist.py', str(tmp_path))
    assert runner.iter == 3
    assert math.isfinite(runner.message_hub.get_scalar('train/loss').current())
    predictor = {id(p) for p in runner.model.head.predictor.parameters()}
    groups = runner.optim_wrapper.param_groups
    fixed = [g for g in groups if g.get('fix_lr')]
    assert {id(p) for g in fixed for p in g['params']} == predictor
    # 3 iterations into a 6-iteration cosine: the others have decayed, the predictor not
    others = [g for g in groups if not g.get('fix_lr')]
    assert all(g['lr'] == 0.06 for g in fixed)
    assert all(g['lr'] == pytest.approx(0.06 * (1 + math.cos(math.pi * 3 / 6)) / 2)
               for g in others)
