import copy
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper

from mmssl.models.losses import dino_loss
from mmssl.models.utils import TrainingProgress
from mmssl.registry import MODELS
from tests._helpers import ema_step
from tests._two_view import perturb_targets

BATCH, OUT = 4, 16
EPOCH_0 = TrainingProgress(iter=0, max_iters=30, epoch=0, max_epochs=3)


def tiny_vit(drop_path_rate=0.0):
    """A 2-block ViT for 16-px views, patch 4 (8-px local views: 4 patches)."""
    arch = dict(embed_dims=16, num_layers=2, num_heads=2, feedforward_channels=32)
    return dict(type='VisionTransformer', arch=arch,
                img_size=16, patch_size=4, out_type='cls_token', drop_path_rate=drop_path_rate)


def build_dino(num_crops=(2, 2), ema_momentum=0.996, warmup_epochs=3, drop_path_rate=0.0,
               **kwargs):
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='DINO', num_crops=num_crops, ema_momentum=ema_momentum,
        teacher_temperature=0.07, warmup_teacher_temperature=0.04,
        warmup_teacher_temperature_epochs=warmup_epochs, **kwargs,
        backbone=tiny_vit(drop_path_rate),
        neck=dict(type='DINONeck', in_channels=16, hidden_channels=32, bottleneck_channels=8,
                  out_channels=OUT),
        head=dict(type='DINOHead', out_channels=OUT, student_temperature=0.1,
                  center_momentum=0.9),
        data_preprocessor=dict(mean=[0, 0, 0], std=[1, 1, 1], to_rgb=False)))
    model.init_weights()
    return model.train()


def multi_crop_views(num_local=2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return ([torch.randn(BATCH, 3, 16, 16, generator=gen) for _ in range(2)]
            + [torch.randn(BATCH, 3, 8, 8, generator=gen) for _ in range(num_local)])


def test_loss_matches_the_paper_formula_and_the_centre_follows():
    model = build_dino()
    perturb_targets(model)  # a teacher output from the student would no longer match
    with torch.no_grad():
        model.head.center.copy_(torch.randn(1, OUT) * 0.1)
    center = model.head.center.clone()
    views = multi_crop_views()
    model.set_progress(EPOCH_0)
    loss = model.loss(views)['loss']

    with torch.no_grad():  # view by view (a ViT has no batch statistics)
        student = [model.neck([model.backbone(v)]) for v in views]
        teacher = [model.momentum_neck([model.momentum_backbone(v)]) for v in views[:2]]
    expected, pairs = 0.0, 0
    for i in range(2):
        p_t = F.softmax((teacher[i] - center) / 0.04, dim=1)  # epoch 0: tau_t = 0.04
        for v in range(len(views)):
            if v != i:
                expected -= (p_t * F.log_softmax(student[v] / 0.1, dim=1)).sum(1).mean()
                pairs += 1
    assert pairs == 6
    assert loss.item() == pytest.approx(expected.item() / pairs, rel=1e-5)
    batch_mean = torch.cat(teacher).mean(dim=0, keepdim=True)
    torch.testing.assert_close(model.head.center, 0.9 * center + 0.1 * batch_mean)


def test_teacher_temperature_warms_up_linearly_by_epoch():
    model = build_dino(warmup_epochs=30)
    assert model.teacher_temperature_at(0) == pytest.approx(0.04)
    assert model.teacher_temperature_at(15) == pytest.approx(0.04 + 0.03 * 15 / 29)
    assert model.teacher_temperature_at(29) == pytest.approx(0.07)
    assert model.teacher_temperature_at(100) == pytest.approx(0.07)
    # The loss uses (and logs) tau_t of the progress' epoch ...
    for epoch, expected in ((0, 0.04), (15, 0.04 + 0.03 * 15 / 29), (29, 0.07)):
        model.set_progress(TrainingProgress(10 * epoch, 1000, epoch, 100))
        logged = model.loss(multi_crop_views())['teacher_temperature']
        assert logged.item() == pytest.approx(expected)
    # ... and, with no progress set (a model called by hand), the warmed-up tau_t.
    assert build_dino(warmup_epochs=30).loss(
        multi_crop_views())['teacher_temperature'].item() == pytest.approx(0.07)
    assert build_dino(warmup_epochs=0).teacher_temperature_at(0) == pytest.approx(0.07)


def test_teacher_sees_the_global_views_once_and_the_student_each_size_once():
    model = build_dino()
    model.set_progress(EPOCH_0)
    student_calls, teacher_calls = [], []
    model.backbone.register_forward_hook(lambda m, a, o: student_calls.append(a[0].shape))
    model.momentum_backbone.register_forward_hook(lambda m, a, o: teacher_calls.append(
        a[0].shape))
    model.loss(multi_crop_views())
    assert student_calls == [(2 * BATCH, 3, 16, 16), (2 * BATCH, 3, 8, 8)]
    assert teacher_calls == [(2 * BATCH, 3, 16, 16)]


def test_gradients_reach_the_student_and_not_the_teacher():
    model = build_dino()
    model.set_progress(EPOCH_0)
    model.loss(multi_crop_views())['loss'].backward()
    for name, param in model.named_parameters():
        if name.startswith('momentum_') or name == 'neck.last_layer.norm':
            assert param.grad is None and not param.requires_grad, name
        else:
            assert param.grad is not None and param.grad.abs().sum() > 0, name
    model.set_progress(TrainingProgress(5, 30, 1, 3))  # epoch 1: the last layer is free
    model.cancel_frozen_gradients()
    assert model.neck.last_layer.weight.grad is not None
    model.set_progress(EPOCH_0)  # frozen over freeze_last_layer_epochs=1
    model.cancel_frozen_gradients()
    assert model.neck.last_layer.weight.grad is None
    assert model.neck.mlp[0].weight.grad is not None


def _frozen_at(model, progress: TrainingProgress) -> bool:
    model.set_progress(progress)
    return model.last_layer_frozen()


def test_last_layer_is_frozen_over_its_epochs_and_iterations():
    by_epoch = build_dino()  # freeze_last_layer_epochs=1, the paper's
    assert not by_epoch.last_layer_frozen()  # no progress set: nothing frozen
    assert [_frozen_at(by_epoch, TrainingProgress(it, 30, epoch, 3))
            for it, epoch in ((0, 0), (9, 0), (10, 1), (25, 2))] == [True, True, False, False]
    by_iter = build_dino(freeze_last_layer_epochs=0, freeze_last_layer_iters=3)
    assert [_frozen_at(by_iter, TrainingProgress(it, 6)) for it in range(5)] == [
        True, True, True, False, False]
    with pytest.raises(ValueError, match='freeze_last_layer_epochs >= 0'):
        build_dino(freeze_last_layer_iters=-1)


def test_teacher_is_an_exact_ema_on_a_cosine_from_0996_to_1():
    model = build_dino()
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p))
    before = copy.deepcopy([model.momentum_backbone, model.momentum_neck])
    m = ema_step(model, 25, 100)
    assert m == pytest.approx(1 - (1 - 0.996) * (math.cos(math.pi * 25 / 100) + 1) / 2)
    pairs = [(model.backbone, model.momentum_backbone, before[0]),
             (model.neck, model.momentum_neck, before[1])]
    for online, target, old in pairs:
        for o, t, t_old in zip(online.parameters(), target.parameters(), old.parameters()):
            assert torch.equal(t, m * t_old + (1 - m) * o)
    assert ema_step(model, 100, 100) == 1.0


def test_teacher_runs_without_stochastic_depth():
    model = build_dino(drop_path_rate=0.5)
    x = multi_crop_views()[0]
    with torch.no_grad():
        assert torch.equal(model.momentum_backbone(x)[0], model.momentum_backbone(x)[0])
        assert not torch.equal(model.backbone(x)[0], model.backbone(x)[0])


def test_a_few_steps_lower_the_loss_on_a_fixed_batch():
    model = build_dino(ema_momentum=0.9)
    model.set_progress(EPOCH_0)
    views = multi_crop_views(seed=1)
    data = dict(inputs=views, data_samples=None)

    def objective():  # the loss against the current teacher and centre, nothing updated
        with torch.no_grad():
            student = [model.neck([model.backbone(v)]) for v in views]
            teacher = [model.momentum_neck([model.momentum_backbone(v)]) for v in views[:2]]
            return dino_loss(student, teacher, model.head.center, 0.1, 0.04).item()

    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
    start = objective()
    for it in range(5):
        model.train_step(data, optim)
        ema_step(model, it, 5)
    assert objective() < start - 0.05


def test_wrong_number_of_views_is_refused():
    model = build_dino()
    model.set_progress(EPOCH_0)
    with pytest.raises(ValueError, match='needs 4 views per image, got 5'):
        model.loss(multi_crop_views(num_local=3))
    with pytest.raises(ValueError, match='at least two global views'):
        build_dino(num_crops=(1, 4))
