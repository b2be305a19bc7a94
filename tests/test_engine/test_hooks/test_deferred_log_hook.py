"""DeferredRuntimeInfoHook: the same logged scalars as mmengine's RuntimeInfoHook, read off
the device once per interval instead of every step; a NaN loss stops training by name."""
import math

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from mmssl.engine import NonFiniteLossError
from tests._helpers import DEMO_CONFIG, HOST_READS, HostCallRecorder, tiny_run_overrides


def _runner(work_dir, runtime_info: dict, images: int = 64, batch: int = 8):
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict(tiny_run_overrides(work_dir, images=images, batch=batch,
                                           deterministic=True))
    cfg.default_hooks.runtime_info = runtime_info
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=4)
    cfg.default_hooks.checkpoint = dict(type='AtomicCheckpointHook', interval=4,
                                        by_epoch=False)
    cfg.randomness = dict(seed=0, deterministic=True)
    return Runner.from_cfg(cfg)


def _record_iterations(monkeypatch, runner) -> HostCallRecorder:
    """Records the tensor-to-host reads of training iterations (model and hooks)."""
    recorder = HostCallRecorder(monkeypatch, HOST_READS)
    run_iter = runner.train_loop.run_iter

    def recorded_iter(*args, **kwargs):
        with recorder:
            return run_iter(*args, **kwargs)
    monkeypatch.setattr(runner.train_loop, 'run_iter', recorded_iter)
    return recorder


def _history(runner, key):
    return runner.message_hub.get_scalar(f'train/{key}').data[0].tolist()


def test_logs_what_mmengine_logs_with_one_host_read_per_interval(tmp_path, monkeypatch,
                                                                 fashion_mnist_root):
    eager = _runner(str(tmp_path / 'eager'), dict(type='RuntimeInfoHook'))
    eager_reads = _record_iterations(monkeypatch, eager)
    eager.train()
    monkeypatch.undo()
    deferred = _runner(str(tmp_path / 'deferred'),
                       dict(type='DeferredRuntimeInfoHook', interval=4))
    deferred_reads = _record_iterations(monkeypatch, deferred)
    deferred.train()
    monkeypatch.undo()

    iters = 8
    values = _history(deferred, 'loss')
    assert len(values) == iters and all(math.isfinite(v) for v in values), values
    assert values == pytest.approx(_history(eager, 'loss'), rel=1e-6)
    # mmengine reads the logged loss after every step; the deferred hook reads the
    # pending ones in one transfer every 4 steps.
    assert len(eager_reads.calls) >= iters, eager_reads.calls
    assert len(deferred_reads.calls) <= iters // 4, deferred_reads.calls


def test_a_nan_loss_stops_training_naming_the_iteration_and_the_checkpoint(
        tmp_path, fashion_mnist_root):
    runner = _runner(str(tmp_path), dict(type='DeferredRuntimeInfoHook'))
    model = runner.model
    real_loss = model.loss

    def loss_nan_from_iteration_6(inputs, data_samples=None):
        losses = real_loss(inputs, data_samples)
        if runner.iter >= 5:  # 0-based: the 6th step
            losses['loss'] = losses['loss'] * math.nan
        return losses
    model.loss = loss_nan_from_iteration_6
    with pytest.raises(NonFiniteLossError,
                       match=r'loss is nan at iteration 6; .*Last checkpoint: .*iter_4\.pth'):
        runner.train()


def test_interval_must_be_positive():
    from mmssl.engine import DeferredRuntimeInfoHook
    with pytest.raises(ValueError, match='interval must be >= 1, got 0'):
        DeferredRuntimeInfoHook(interval=0)
