import glob
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmssl.models.algorithms.base import pool_features
from tests._helpers import DEMO_CONFIG, tiny_run_overrides
from tests._multicrop import DINO_DEMO, SWAV_DEMO, tiny_demo_runner


def _scalars(work_dir):
    path, = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_dino_teacher_temperature_warms_up_by_epoch(tmp_path, fashion_mnist_root):
    hooks = [dict(type='MomentumUpdateHook'), dict(type='EpochScheduleHook')]
    runner = tiny_demo_runner(DINO_DEMO, str(tmp_path), hooks, images=8)  # 1 iter / epoch
    runner.train()
    rows = [row for row in _scalars(str(tmp_path)) if 'teacher_temperature' in row]
    # The demo warms tau_t up from 0.04 to 0.07 over its 2 epochs.
    assert [row['teacher_temperature'] for row in rows] == pytest.approx([0.04, 0.07])
    assert all(torch.isfinite(torch.tensor(row['loss'])) for row in rows)
    # Evaluation (kNN) reads the student backbone's pooled features.
    model = runner.model.eval()
    images = torch.randn(3, 3, 28, 28)
    feats = torch.stack([s.feat for s in model.predict(images)])
    with torch.no_grad():
        torch.testing.assert_close(feats, pool_features(model.backbone(images)[-1]))
        assert not torch.allclose(feats, pool_features(model.momentum_backbone(images)[-1]))


class _RecordQueueFill(Hook):
    def __init__(self):
        self.filled = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.filled.append(int(runner.model.queue_filled))


def test_swav_queue_starts_at_its_epoch(tmp_path, fashion_mnist_root):
    hooks = [dict(type='EpochScheduleHook'), dict(type='FreezeParametersHook', iters=1)]
    runner = tiny_demo_runner(SWAV_DEMO, str(tmp_path), hooks,
                              model=dict(queue_length=16, queue_start_epoch=1))
    record = _RecordQueueFill()
    runner.register_hook(record)
    runner.train()  # 2 epochs of 2 iterations of 8 images
    assert record.filled == [0, 0, 8, 16]
    state = torch.load(osp.join(str(tmp_path), 'epoch_2.pth'), map_location='cpu',
                       weights_only=False)['state_dict']
    assert int(state['queue_filled']) == 16
    assert state['projection_queues.1.keys'].shape == (16, 128)


def test_models_without_set_epoch_are_refused(tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(DEMO_CONFIG)  # MoCo: no epoch schedule
    cfg.merge_from_dict(tiny_run_overrides(str(tmp_path), images=8, batch=8))
    cfg.custom_hooks = [dict(type='EpochScheduleHook')]
    with pytest.raises(TypeError, match='MoCo has no set_epoch'):
        Runner.from_cfg(cfg).train()
