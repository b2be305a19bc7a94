import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmssl.engine.hooks import FreezeParametersHook
from tests._helpers import DEMO_CONFIG, tiny_run_overrides
from tests._multicrop import DINO_DEMO, SWAV_DEMO, tiny_demo_runner


class _RecordAfterEachIter(Hook):
    """Copies of some parameters before training and after every iteration."""

    priority = 'LOWEST'

    def __init__(self, get_params):
        self.get_params, self.before, self.after = get_params, None, []

    def before_train(self, runner):
        self.before = [p.detach().clone() for p in self.get_params(runner.model)]

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.after.append([p.detach().clone() for p in self.get_params(runner.model)])


def test_swav_prototypes_stay_fixed_for_the_first_iterations(tmp_path, fashion_mnist_root):
    hooks = [dict(type='EpochScheduleHook'), dict(type='FreezeParametersHook', iters=2)]
    runner = tiny_demo_runner(SWAV_DEMO, str(tmp_path), hooks, model=dict(queue_length=16))
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


def test_dino_last_layer_stays_fixed_over_the_first_epoch(tmp_path, fashion_mnist_root):
    hooks = [dict(type='MomentumUpdateHook'), dict(type='EpochScheduleHook'),
             dict(type='FreezeParametersHook', epochs=1)]
    runner = tiny_demo_runner(DINO_DEMO, str(tmp_path), hooks, images=8)  # 1 iter / epoch
    last_layer = _RecordAfterEachIter(lambda m: [m.neck.last_layer.weight])
    mlp = _RecordAfterEachIter(lambda m: [m.neck.mlp[0].weight])
    runner.register_hook(last_layer)
    runner.register_hook(mlp)
    runner.train()

    assert torch.equal(last_layer.after[0][0], last_layer.before[0])
    assert not torch.equal(last_layer.after[1][0], last_layer.before[0])
    assert not torch.equal(mlp.after[0][0], mlp.before[0])


def test_bad_arguments_and_models_without_the_method_are_refused(tmp_path, fashion_mnist_root):
    for kwargs in (dict(), dict(iters=1, epochs=1)):
        with pytest.raises(ValueError, match='exactly one of iters and epochs'):
            FreezeParametersHook(**kwargs)
    cfg = Config.fromfile(DEMO_CONFIG)  # MoCo: nothing to freeze
    cfg.merge_from_dict(tiny_run_overrides(str(tmp_path), images=8, batch=8))
    cfg.custom_hooks = [dict(type='FreezeParametersHook', iters=1)]
    with pytest.raises(TypeError, match='MoCo has no cancel_frozen_gradients'):
        Runner.from_cfg(cfg).train()
