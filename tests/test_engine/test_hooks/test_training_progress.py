"""Training progress, wired once: the default ``MomentumUpdateHook`` hands it to the model,
which runs its own schedules (no schedule hooks in any config)."""
import glob
import json
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.runner import Runner
from torch import nn

from mmssl.engine.hooks import MomentumUpdateHook
from mmssl.models.algorithms.base import pool_features
from mmssl.models.utils import TrainingProgress, delayed_warmup_factor
from tests._helpers import REPO_ROOT, tiny_run_overrides
from tests._multicrop import DINO_DEMO, SWAV_DEMO, tiny_demo_runner

DENSECL_DEMO = osp.join(REPO_ROOT, 'configs/densecl/densecl_resnet18_1xb256-coslr-2e_fmnist.py')


def _scalars(work_dir):
    rows = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            rows += [json.loads(line) for line in f]
    return rows


class _RecordAfterEachIter(Hook):
    """Copies of some parameters before training and after every iteration."""

    priority = 'LOWEST'

    def __init__(self, get_params):
        self.get_params, self.before, self.after = get_params, None, []

    def before_train(self, runner):
        self.before = [p.detach().clone() for p in self.get_params(runner.model)]

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.after.append([p.detach().clone() for p in self.get_params(runner.model)])


def test_dino_follows_its_schedules_in_a_plain_runner_without_custom_hooks(
        tmp_path, fashion_mnist_root):
    """The DINO demo with no custom_hooks at all, 2 epochs of 1 iteration: tau_t warms up
    by epoch, the last layer is frozen over epoch 0 only, the teacher is an EMA."""
    runner = tiny_demo_runner(DINO_DEMO, str(tmp_path), [], images=8,
                              model=dict(freeze_last_layer_epochs=1, freeze_last_layer_iters=0))
    assert 'custom_hooks' not in runner.cfg or not runner.cfg.custom_hooks
    last_layer = _RecordAfterEachIter(lambda m: [m.neck.last_layer.weight])
    mlp = _RecordAfterEachIter(lambda m: [m.neck.mlp[0].weight])
    teacher = _RecordAfterEachIter(lambda m: list(m.momentum_backbone.parameters()))
    for hook in (last_layer, mlp, teacher):
        runner.register_hook(hook)
    runner.train()

    rows = [row for row in _scalars(str(tmp_path)) if 'teacher_temperature' in row]
    # The demo warms tau_t up from 0.04 to 0.07 over its 2 epochs.
    assert [row['teacher_temperature'] for row in rows] == pytest.approx([0.04, 0.07])
    assert all(torch.isfinite(torch.tensor(row['loss'])) for row in rows)
    # The cosine EMA factor of iterations 0 and 1 of 2, from 0.99.
    assert [row['ema_momentum'] for row in rows] == pytest.approx([0.99, 0.995])
    assert torch.equal(last_layer.after[0][0], last_layer.before[0])  # frozen in epoch 0
    assert not torch.equal(last_layer.after[1][0], last_layer.before[0])  # then free
    assert not torch.equal(mlp.after[0][0], mlp.before[0])
    assert any(not torch.equal(a, b) for a, b in zip(teacher.after[0], teacher.before))
    # Evaluation (kNN) reads the student backbone's pooled features.
    model = runner.model.eval()
    images = torch.randn(3, 3, 28, 28)
    feats = torch.stack([s.feat for s in model.predict(images)])
    with torch.no_grad():
        torch.testing.assert_close(feats, pool_features(model.backbone(images)[-1]))
        assert not torch.allclose(feats, pool_features(model.momentum_backbone(images)[-1]))


def test_an_iteration_based_loop_counts_epochs_in_passes_over_the_data(
        tmp_path, fashion_mnist_root):
    """IterBasedTrainLoop keeps mmengine's epoch at 0: the progress counts passes instead."""
    runner = tiny_demo_runner(
        DINO_DEMO, str(tmp_path), [], images=8,  # 1 iteration per pass
        train_cfg=dict(_delete_=True, type='IterBasedTrainLoop', max_iters=3),
        param_scheduler=[dict(type='ConstantLR', factor=1.0, by_epoch=False)],
        default_hooks=dict(checkpoint=dict(by_epoch=False, interval=3)))
    progress = []
    original = runner.model.set_progress
    runner.model.set_progress = lambda p: (progress.append(p), original(p))
    runner.train()
    assert progress == [TrainingProgress(it, 3, it, None) for it in range(3)]
    rows = [row for row in _scalars(str(tmp_path)) if 'teacher_temperature' in row]
    assert [row['teacher_temperature'] for row in rows] == pytest.approx([0.04, 0.07, 0.07])


class _RecordQueueFill(Hook):
    def __init__(self):
        self.filled = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.filled.append(int(runner.model.queue_filled))


def test_swav_queue_starts_at_its_epoch(tmp_path, fashion_mnist_root):
    runner = tiny_demo_runner(SWAV_DEMO, str(tmp_path), [],
                              model=dict(queue_length=16, queue_start_epoch=1,
                                         freeze_prototypes_iters=1))
    record = _RecordQueueFill()
    runner.register_hook(record)
    runner.train()  # 2 epochs of 2 iterations of 8 images
    assert record.filled == [0, 0, 8, 16]
    state = torch.load(osp.join(str(tmp_path), 'epoch_2.pth'), map_location='cpu',
                       weights_only=False)['state_dict']
    assert int(state['queue_filled']) == 16 and state['projection_queues.1.keys'].shape == (16, 128)


def test_swav_prototypes_stay_fixed_for_the_first_iterations(tmp_path, fashion_mnist_root):
    runner = tiny_demo_runner(SWAV_DEMO, str(tmp_path), [],
                              model=dict(queue_length=16, freeze_prototypes_iters=2))
    prototypes = _RecordAfterEachIter(lambda m: [m.head.prototypes.weight])
    neck = _RecordAfterEachIter(lambda m: list(m.neck.parameters()))
    runner.register_hook(prototypes)
    runner.register_hook(neck)
    runner.train()  # 2 epochs of 2 iterations

    assert runner.iter == 4 and len(prototypes.after) == 4
    initial = F.normalize(prototypes.before[0], dim=1)  # normalised before each forward
    for it in (0, 1):  # frozen: not even weight decay or momentum moved them
        torch.testing.assert_close(prototypes.after[it][0], initial, rtol=0, atol=1e-7)
    assert not torch.allclose(prototypes.after[2][0], initial, atol=1e-4)
    assert any(not torch.equal(a, b) for a, b in zip(neck.after[0], neck.before))


def test_warmup_factor_is_zero_before_the_start_then_one_or_a_linear_ramp():
    assert [delayed_warmup_factor(it, 2) for it in range(4)] == [0, 0, 1, 1]
    assert [delayed_warmup_factor(it, 1, 4) for it in range(7)] == [
        0, 0.25, 0.5, 0.75, 1, 1, 1]
    assert delayed_warmup_factor(0, 0) == 1


def _densecl_runner(work_dir, epochs, resume=False):
    cfg = Config.fromfile(DENSECL_DEMO)
    overrides = tiny_run_overrides(work_dir, images=16, batch=8, epochs=2)
    overrides.update(
        # The demo's Shuffling BN in 4 groups of 2 images; the dense loss from iteration 3.
        model=dict(queue_length=64, dense_loss_start_iter=3),
        train_cfg=dict(max_epochs=epochs),
        log_processor=dict(window_size=1))  # log each iteration's own loss
    cfg.merge_from_dict(overrides)
    cfg.resume = resume
    return Runner.from_cfg(cfg)


def test_densecl_dense_loss_is_off_until_its_start_iteration_across_a_resume(
        tmp_path, fashion_mnist_root):
    """Epoch 1 (iterations 0, 1), then a resumed run for epoch 2 (2, 3): the dense weight is
    0 at iterations 0, 1, 2 and lambda from 3 on; the resumed run gets its iteration's."""
    _densecl_runner(str(tmp_path), epochs=1).train()
    runner = _densecl_runner(str(tmp_path), epochs=2, resume=True)
    runner.train()
    rows = [row for row in _scalars(str(tmp_path)) if 'loss_dense' in row]
    assert [row['step'] for row in rows] == [1, 2, 3, 4]
    assert [row['dense_weight'] for row in rows] == [0, 0, 0, 0.5]
    assert [row['loss_dense'] for row in rows[:3]] == [0, 0, 0]
    assert rows[3]['loss_dense'] > 0
    assert all(row['loss_global'] > 0 for row in rows)
    assert runner.model.dense_loss_weight == 0.5


class _Frozen(nn.Module):
    """A model with only ``cancel_frozen_gradients``, counting its calls."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def cancel_frozen_gradients(self):
        self.calls += 1


def test_frozen_gradients_are_cancelled_before_every_optimizer_of_a_dict():
    model, hook = _Frozen(), MomentumUpdateHook()
    params = [nn.Parameter(torch.ones(1)) for _ in range(2)]
    wrappers = OptimWrapperDict(a=OptimWrapper(torch.optim.SGD([params[0]], lr=0.1)),
                                b=OptimWrapper(torch.optim.SGD([params[1]], lr=0.1)))
    runner = SimpleNamespace(model=model, hooks=[hook], optim_wrapper=wrappers)
    hook.before_train(runner)
    for wrapper in wrappers.values():
        wrapper.optimizer.step()
    assert model.calls == 2
    hook.after_train(runner)
    wrappers['a'].optimizer.step()
    assert model.calls == 2  # the pre-hooks are removed after training
