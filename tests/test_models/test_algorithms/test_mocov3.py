import copy
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper

from mmssl.registry import MODELS
from tests._helpers import ema_step, image_views
from tests._two_view import (PLAIN_PREPROCESSOR, mlp, perturb_targets, tiny_resnet, tiny_vit,
                             train_demo)

TAU = 0.2


def build_mocov3(backbone='resnet', **kwargs):
    """MoCo v3 on a tiny ResNet (16-px views) or a 2-block ViT (32-px views)."""
    if backbone == 'resnet':
        parts = dict(backbone=tiny_resnet(),
                     neck=mlp(64, 32, 16, with_avg_pool=True, with_last_bn_affine=False))
    else:  # the ViT recipe: a 3-layer projector on the class token
        parts = dict(backbone=tiny_vit(),
                     neck=mlp(32, 32, 16, num_layers=3, with_last_bn_affine=False))
    model = MODELS.build(dict(
        type='MoCoV3', **parts,
        head=dict(type='PredictorHead', predictor=mlp(16, 32, 16, with_last_bn=False),
                  loss=dict(type='InfoNCEHead', temperature=TAU, loss_weight=2 * TAU)),
        data_preprocessor=PLAIN_PREPROCESSOR, **kwargs))
    model.init_weights()
    return model


def _views(backbone, batch=4, seed=0):
    return image_views(batch, size=16 if backbone == 'resnet' else 32, seed=seed)


@pytest.mark.parametrize('backbone', ['resnet', 'vit'])
def test_loss_is_the_symmetric_contrastive_loss_with_in_batch_negatives(backbone):
    torch.manual_seed(0)
    model = build_mocov3(backbone)
    perturb_targets(model)  # keys from the online encoder would no longer match
    views = _views(backbone)
    loss = model.loss(views)['loss']

    with torch.no_grad():  # direct re-computation, same BN mode (train)
        q = [F.normalize(model.head.predictor(model.neck(model.backbone(v)))[0], dim=1)
             for v in views]
        k = [F.normalize(model.momentum_neck(model.momentum_backbone(v))[0], dim=1)
             for v in views]

    def ctr(q, k):  # 2 tau * cross-entropy of q_i against the keys, k_i the positive
        total = 0.0
        for i in range(4):
            logits = [float(q[i] @ k[j]) / TAU for j in range(4)]
            total -= logits[i] - math.log(sum(math.exp(x) for x in logits))
        return 2 * TAU * total / 4

    assert loss.item() == pytest.approx(ctr(q[0], k[1]) + ctr(q[1], k[0]), rel=1e-5)


@pytest.mark.parametrize('backbone', ['resnet', 'vit'])
def test_gradients_reach_the_query_encoder_and_not_the_momentum_encoder(backbone):
    model = build_mocov3(backbone)
    model.loss(_views(backbone))['loss'].backward()
    # the ViT's random patch projection is frozen (stop_grad_conv1), its sin-cos
    # position embedding fixed
    frozen = {'backbone.patch_embed.projection.weight', 'backbone.patch_embed.projection.bias',
              'backbone.pos_embed'} if backbone == 'vit' else set()
    for name, param in model.named_parameters():
        if name.startswith('momentum_') or name in frozen:
            assert param.grad is None and not param.requires_grad, name
        else:
            assert param.grad is not None, name
    assert frozen <= {name for name, _ in model.named_parameters()}
    for part in (model.backbone, model.neck, model.head.predictor):
        assert any(p.grad.abs().sum() > 0 for p in part.parameters() if p.requires_grad)


@pytest.mark.parametrize('backbone', ['resnet', 'vit'])
def test_momentum_encoder_follows_by_ema_from_0_99_on_a_cosine(backbone):
    model = build_mocov3(backbone)
    assert model.ema_momentum_at(0, 10) == 0.99  # MoCo v3's default
    with torch.no_grad():
        for p in list(model.backbone.parameters()) + list(model.neck.parameters()):
            p.add_(1.0)
    before = copy.deepcopy([model.momentum_backbone, model.momentum_neck])
    m = ema_step(model, 4, 10)
    assert m == pytest.approx(1 - (1 - 0.99) * (math.cos(math.pi * 4 / 10) + 1) / 2)
    for (online, target), old in zip(model.momentum_pairs(), before):
        for new_t, old_t, p_o in zip(target.parameters(), old.parameters(), online.parameters()):
            torch.testing.assert_close(new_t, m * old_t + (1 - m) * p_o, rtol=0, atol=1e-6)
    # the predictor has no momentum copy
    assert all(online is not model.head for online, _ in model.momentum_pairs())


@pytest.mark.parametrize('backbone', ['resnet', 'vit'])
def test_a_few_steps_lower_the_loss_on_a_fixed_batch(backbone):
    torch.manual_seed(0)
    model = build_mocov3(backbone)
    views = _views(backbone, batch=8, seed=1)
    data = dict(inputs=views, data_samples=None)

    def objective():
        with torch.no_grad():
            return model.loss(views)['loss'].item()

    params = [p for p in model.parameters() if p.requires_grad]
    optim = OptimWrapper(torch.optim.SGD(params, lr=0.05, momentum=0.9))
    start = objective()
    for it in range(5):
        model.train_step(data, optim)
        ema_step(model, it, 5)
    assert objective() < start - 0.05


def test_demo_config_trains_a_few_iterations(tmp_path, fashion_mnist_root):
    runner = train_demo('mocov3/mocov3_resnet18_1xb256-coslr-2e_fmnist.py', str(tmp_path))
    assert runner.iter == 3
    assert math.isfinite(runner.message_hub.get_scalar('train/loss').current())
    expected = 1 - (1 - 0.99) * (math.cos(math.pi * 2 / 3) + 1) / 2
    assert runner.message_hub.get_scalar('train/ema_momentum').current() == pytest.approx(expected)


def test_vit_predict_gives_the_class_token_feature_of_the_online_backbone():
    model = build_mocov3('vit').eval()
    image = _views('vit')[0]
    samples = model(image, mode='predict')
    with torch.no_grad():
        cls_token = model.backbone(image)[-1]
    assert cls_token.shape == (4, 32)
    torch.testing.assert_close(torch.stack([s.feat for s in samples]), cls_token)
