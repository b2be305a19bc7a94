import glob
import json
import os.path as osp
from types import SimpleNamespace

import pytest
from mmengine.config import Config
from mmengine.runner import Runner
from torch import nn

from mmssl.engine.hooks import LossWeightWarmupHook
from tests._helpers import REPO_ROOT, tiny_run_overrides

DENSECL_DEMO = osp.join(REPO_ROOT, 'configs/densecl/densecl_resnet18_1xb256-coslr-2e_fmnist.py')


def _scalars(work_dir):
    path, = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_factor_is_zero_before_start_iters_then_one_or_a_linear_ramp():
    assert [LossWeightWarmupHook(start_iters=2).factor_at(it) for it in range(4)] == [0, 0, 1, 1]
    ramp = LossWeightWarmupHook(start_iters=1, ramp_iters=4)
    assert [ramp.factor_at(it) for it in range(7)] == [0, 0.25, 0.5, 0.75, 1, 1, 1]
    assert LossWeightWarmupHook(start_iters=0).factor_at(0) == 1
    with pytest.raises(ValueError, match='start_iters >= 0'):
        LossWeightWarmupHook(start_iters=-1)


def test_hook_refuses_a_model_without_the_method():
    runner = SimpleNamespace(model=nn.Linear(2, 2))
    with pytest.raises(TypeError, match='Linear has no set_loss_warmup_factor'):
        LossWeightWarmupHook().before_train(runner)


def test_densecl_dense_loss_is_off_for_the_first_start_iters(tmp_path, fashion_mnist_root):
    """A real runner, 4 iterations of 8 images: the dense weight is 0 at iterations 0, 1."""
    cfg = Config.fromfile(DENSECL_DEMO)
    overrides = tiny_run_overrides(str(tmp_path), images=32, batch=8)
    overrides.update(
        model=dict(queue_length=64),  # the demo's Shuffling BN in 4 groups of 2 images
        custom_hooks=[dict(type='MomentumUpdateHook'),
                      dict(type='LossWeightWarmupHook', start_iters=2)],
        log_processor=dict(window_size=1))  # log each iteration's own loss
    cfg.merge_from_dict(overrides)
    runner = Runner.from_cfg(cfg)
    runner.train()
    rows = [row for row in _scalars(str(tmp_path)) if 'loss_dense' in row]
    assert [row['step'] for row in rows] == [1, 2, 3, 4]
    assert [row['loss_warmup_factor'] for row in rows] == [0, 0, 1, 1]
    assert [row['loss_dense'] for row in rows[:2]] == [0, 0]
    assert all(row['loss_dense'] > 0 for row in rows[2:])
    assert all(row['loss_global'] > 0 for row in rows)
    assert runner.model.dense_loss_weight == 0.5
