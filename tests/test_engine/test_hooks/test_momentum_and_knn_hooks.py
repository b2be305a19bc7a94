import glob
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmssl.models.utils import TrainingProgress, cosine_momentum
from tests._helpers import DEMO_CONFIG, tiny_run_overrides

KNN_LOADER = dict(
    batch_size=64, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='KNNDataset',
                 bank=dict(type='FashionMNIST', split='train', indices=200,
                           pipeline=[dict(type='PackInputs')], test_mode=True),
                 query=dict(type='FashionMNIST', split='test', indices=50,
                            pipeline=[dict(type='PackInputs')], test_mode=True)))


def _runner(work_dir, **overrides):
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict(tiny_run_overrides(work_dir, images=24, batch=8))
    cfg.merge_from_dict(overrides)
    return Runner.from_cfg(cfg)


def _scalars(work_dir):
    path, = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_momentum_hook_passes_the_runner_iteration_and_max_iters(tmp_path,
                                                                 fashion_mnist_root):
    runner = _runner(str(tmp_path), model=dict(ema_momentum=0.9))  # no custom_hooks
    runner.model.ema_schedule = 'cosine'  # so that m depends on (iteration, max_iters)
    before = [p.clone() for p in runner.model.momentum_backbone.parameters()]
    runner.train()  # 3 iterations
    logged = [row['ema_momentum'] for row in _scalars(str(tmp_path)) if 'ema_momentum' in row]
    assert logged == pytest.approx([cosine_momentum(0.9, 1.0, it, 3) for it in range(3)])
    after = list(runner.model.momentum_backbone.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(after, before))  # the EMA moved it
    for target, online in zip(after, runner.model.backbone.parameters()):
        assert not target.requires_grad and online.requires_grad


def test_momentum_hook_does_nothing_for_a_model_without_a_target(tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict(tiny_run_overrides(str(tmp_path), images=8, batch=8))
    cfg.model = dict(type='SimCLR', backbone=cfg.model.backbone, neck=cfg.model.neck,
                     head=dict(type='NTXentHead', temperature=0.2))
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 1 and runner.model.training_progress == TrainingProgress(0, 1, 0, 1)
    assert not any('ema_momentum' in row for row in _scalars(str(tmp_path)))


def test_a_momentum_hook_left_in_custom_hooks_does_not_update_twice(tmp_path,
                                                                    fashion_mnist_root):
    runner = _runner(str(tmp_path), custom_hooks=[dict(type='MomentumUpdateHook')])
    calls = []
    original = runner.model.ema_update
    runner.model.ema_update = lambda: calls.append(1) or original()
    with pytest.warns(UserWarning, match='MomentumUpdateHook is registered twice'):
        runner.train()  # 3 iterations
    assert len(calls) == 3


def test_knn_hook_logs_before_training_and_at_the_end(tmp_path, fashion_mnist_root):
    hooks = [dict(type='KNNEvalHook', dataloader=KNN_LOADER, before_train=True, k=5)]
    _runner(str(tmp_path), custom_hooks=hooks, log_level='INFO').train()
    rows = [row for row in _scalars(str(tmp_path)) if 'knn/top1' in row]
    assert [row['step'] for row in rows] == [0, 3]
    for row in rows:
        assert 10 < row['knn/top1'] <= 100 and row['knn/top1'] <= row['knn/top5']
    log, = glob.glob(osp.join(str(tmp_path), '*', '*.log'))
    with open(log) as f:
        assert 'kNN evaluation after 3 iterations: knn/top1:' in f.read()
