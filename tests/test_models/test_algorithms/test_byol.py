import copy
import math

import pytest
import torch
from mmengine.optim import OptimWrapper

from mmssl.registry import MODELS
from tests._helpers import ema_step, image_views
from tests._two_view import PLAIN_PREPROCESSOR, mlp, perturb_targets, tiny_resnet, train_demo


def build_byol(**kwargs):
    model = MODELS.build(dict(
        type='BYOL', backbone=tiny_resnet(),
        neck=mlp(64, 32, 16, with_avg_pool=True, with_last_bn=False),
        head=dict(type='PredictorHead', predictor=mlp(16, 32, 16, with_last_bn=False),
                  loss=dict(type='CosineRegressionHead', loss='normalized_l2')),
        data_preprocessor=PLAIN_PREPROCESSOR, **kwargs))
    model.init_weights()
    return model


def _cos(u, v):
    return float(u @ v) / (float(u.norm()) * float(v.norm()))


def test_target_is_a_frozen_copy_of_backbone_and_projector_with_the_papers_momentum():
    model = build_byol()
    assert [target for _, target in model.momentum_pairs()] == [model.momentum_backbone,
                                                                model.momentum_neck]
    for online, target in model.momentum_pairs():
        for p_o, p_t in zip(online.parameters(), target.parameters()):
            assert torch.equal(p_o, p_t) and not p_t.requires_grad
    assert model.ema_momentum_at(0, 100) == 0.996 and model.ema_momentum_at(100, 100) == 1.0


def test_loss_is_2_minus_2_cos_summed_over_both_view_orders():
    torch.manual_seed(0)
    model = build_byol()
    perturb_targets(model)  # targets from the online network would no longer match
    views = image_views(4, size=16)
    loss = model.loss(views)['loss']

    with torch.no_grad():  # direct re-computation, same BN mode (train)
        p = [model.head.predictor(model.neck(model.backbone(v)))[0] for v in views]
        t = [model.momentum_neck(model.momentum_backbone(v))[0] for v in views]
    expected = 0.0
    for a, b in ((0, 1), (1, 0)):  # the prediction of view a against the target of view b
        expected += sum(2 - 2 * _cos(p[a][i], t[b][i]) for i in range(4)) / 4
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_gradients_reach_the_online_network_and_not_the_target():
    model = build_byol()
    model.loss(image_views(4, size=16))['loss'].backward()
    for name, param in model.named_parameters():
        if name.startswith('momentum_'):
            assert param.grad is None and not param.requires_grad, name
        else:
            assert param.grad is not None, name
    assert any(p.grad.abs().sum() > 0 for p in model.backbone.parameters())
    assert any(p.grad.abs().sum() > 0 for p in model.head.predictor.parameters())


def test_target_follows_the_online_network_by_ema_with_a_cosine_momentum():
    model = build_byol()
    with torch.no_grad():
        for p in list(model.backbone.parameters()) + list(model.neck.parameters()):
            p.add_(1.0)
    before = copy.deepcopy([model.momentum_backbone, model.momentum_neck])
    m = ema_step(model, 3, 10)
    assert m == pytest.approx(1 - (1 - 0.996) * (math.cos(math.pi * 3 / 10) + 1) / 2)
    for (online, target), old in zip(model.momentum_pairs(), before):
        for new_t, old_t, p_o in zip(target.parameters(), old.parameters(), online.parameters()):
            torch.testing.assert_close(new_t, m * old_t + (1 - m) * p_o, rtol=0, atol=1e-6)
            assert not torch.equal(new_t, old_t)


def test_a_few_steps_lower_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = build_byol()
    views = image_views(8, size=16, seed=1)
    data = dict(inputs=views, data_samples=None)

    def objective():
        with torch.no_grad():
            return model.loss(views)['loss'].item()

    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    start = objective()
    for it in range(5):
        model.train_step(data, optim)
        ema_step(model, it, 5)
    assert objective() < start - 0.05


def test_wrong_number_of_views_is_refused():
    with pytest.raises(ValueError, match='needs 2 views per image, got 1'):
        build_byol().loss(image_views(4, size=16, num_views=1))


def test_demo_config_trains_a_few_iterations(tmp_path, fashion_mnist_root):
    runner = train_demo('byol/byol_resnet18_1xb256-coslr-2e_fmnist.py', str(tmp_path))
    assert runner.iter == 3
    assert math.isfinite(runner.message_hub.get_scalar('train/loss').current())
    # the last EMA step used the cosine momentum of iteration 2 of 3, from 0.99
    expected = 1 - (1 - 0.99) * (math.cos(math.pi * 2 / 3) + 1) / 2
    assert runner.message_hub.get_scalar('train/ema_momentum').current() == pytest.approx(expected)
