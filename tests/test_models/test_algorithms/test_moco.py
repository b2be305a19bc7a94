import copy
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper

from mmssl.registry import MODELS
from tests._helpers import image_views, resnet18


def build_moco(queue_len=16, feat_dim=16, momentum=0.99, bn_splits=1):
    model = MODELS.build(dict(
        type='MoCo', queue_len=queue_len, feat_dim=feat_dim, momentum=momentum,
        bn_splits=bn_splits, backbone=resnet18(),
        neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=32, out_channels=feat_dim,
                  with_avg_pool=True),
        head=dict(type='InfoNCEHead', temperature=0.2),
        data_preprocessor=dict(mean=[0, 0, 0], std=[1, 1, 1], to_rgb=False)))
    model.init_weights()
    return model


def test_key_encoder_starts_as_a_copy_of_the_query_encoder():
    model = build_moco()
    for online, target in model.momentum_pairs():
        for p_o, p_t in zip(online.parameters(), target.parameters()):
            assert torch.equal(p_o, p_t) and not p_t.requires_grad


def test_loss_matches_the_formula_and_enqueues_the_keys():
    torch.manual_seed(0)
    model = build_moco()
    views = image_views(4)
    negatives = model.queue.keys.clone()
    loss = model.loss(views)['loss']

    with torch.no_grad():  # direct re-computation, same BN mode (train)
        q = F.normalize(model.neck(model.backbone(views[0]))[0], dim=1)
        k = F.normalize(model.momentum_neck(model.momentum_backbone(views[1]))[0], dim=1)
    tau, expected = 0.2, 0.0
    for i in range(4):
        pos = math.exp(float(q[i] @ k[i]) / tau)
        denom = pos + sum(math.exp(float(q[i] @ n) / tau) for n in negatives)
        expected -= math.log(pos / denom)
    assert loss.item() == pytest.approx(expected / 4, rel=1e-4)
    assert torch.allclose(model.queue.keys[:4], k, atol=1e-5)
    assert torch.equal(model.queue.keys[4:], negatives[4:])
    assert int(model.queue.ptr) == 4


def test_gradients_reach_the_query_encoder_and_not_the_key_encoder():
    model = build_moco()
    model.loss(image_views(4))['loss'].backward()
    for name, param in model.named_parameters():
        if name.startswith('momentum_'):
            assert param.grad is None and not param.requires_grad, name
        else:
            assert param.grad is not None, name
    assert any(p.grad.abs().sum() > 0 for p in model.backbone.parameters())


def test_momentum_update_follows_the_formula():
    model = build_moco(momentum=0.9)
    with torch.no_grad():
        for p in model.backbone.parameters():
            p.add_(1.0)
    before = copy.deepcopy(model.momentum_backbone)
    assert model.momentum_update(0, 10) == 0.9
    for new, old, online in zip(model.momentum_backbone.parameters(), before.parameters(),
                                model.backbone.parameters()):
        assert torch.equal(new, 0.9 * old + (1 - 0.9) * online)


def test_a_few_steps_lower_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = build_moco(queue_len=64)
    reference_negatives = model.queue.snapshot()
    views = image_views(8, seed=1)
    data = dict(inputs=views, data_samples=None)

    def objective():  # the InfoNCE against a fixed set of negatives
        with torch.no_grad():
            q = F.normalize(model.project(views[0]), dim=1)
            k = F.normalize(model.momentum_project(views[1]), dim=1)
            return model.head.loss(q, k, reference_negatives).item()

    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    start = objective()
    for it in range(6):
        model.train_step(data, optim)
        model.momentum_update(it, 6)
    assert objective() < start - 0.05


def test_training_without_the_momentum_hook_fails_loudly():
    model = build_moco()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    data = dict(inputs=image_views(4), data_samples=None)
    model.train_step(data, optim)
    with pytest.raises(RuntimeError, match='MomentumUpdateHook'):
        model.train_step(data, optim)


def test_split_bn_emulation_on_one_process():
    """bn_splits=2: queries per half-batch, keys per half of a shuffled batch."""
    torch.manual_seed(0)
    model = build_moco(bn_splits=2)
    views = image_views(4)
    with torch.no_grad():
        loss = model.loss(views)['loss']
        halves = torch.cat([model.project(v) for v in views[0].chunk(2)])
    assert torch.isfinite(loss)
    # the emulation really is per-chunk BN: it differs from whole-batch BN
    assert not torch.allclose(halves, model.project(views[0]), atol=1e-4)
    with pytest.raises(ValueError, match='bn_splits=3'):
        build_moco(bn_splits=3).loss(views)


def test_wrong_number_of_views_is_refused():
    with pytest.raises(ValueError, match='needs 2 views per image, got 3'):
        build_moco().loss(image_views(4, num_views=3))


def test_queue_length_not_a_multiple_of_the_batch():
    with pytest.raises(ValueError, match='queue length 10 is not a multiple'):
        build_moco(queue_len=10).loss(image_views(4))
