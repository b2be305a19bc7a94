"""A training iteration makes no host round trip: on a GPU, reading a value back from the
device (``.item()``, ``bool(t)``, ...) or making a tensor from host values
(``torch.tensor(x, device=...)``) waits for the device, every step. Checked on the CPU by
recording those calls in the model's step and every hook of an iteration of the
Fashion-MNIST demos, on the iterations between the first (which seeds the view generator
from the CPU RNG, once per run) and the last (where the logged losses are read, as at
every logger interval).

Left out: the pretext tasks read their labels from the data samples (host data, as any
supervised step does), the NPID memory bank gathers by dataset index (host data), and
BEiT, whose block masking loops until every image has its count of masked patches.
"""
import os.path as osp
import uuid

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from tests._helpers import REPO_ROOT, HostCallRecorder

CONFIGS = [
    'barlowtwins/barlowtwins_resnet18_1xb256-coslr-2e_fmnist.py',
    'byol/byol_resnet18_1xb256-coslr-2e_fmnist.py',
    'densecl/densecl_resnet18_1xb256-coslr-2e_fmnist.py',
    'dino/dino_resnet18-mcrop2x24-4x12_1xb256-coslr-2e_fmnist.py',
    'exemplar/exemplar_resnet18_1xb256-coslr-2e_fmnist.py',
    'mae/mae_vit-tiny-p4_1xb256-coslr-2e_fmnist.py',
    'mocov1/mocov1_resnet18_1xb256-steplr-1e_fmnist.py',
    'mocov2/mocov2_resnet18_1xb256-coslr-2e_fmnist.py',
    'mocov2/mocov2_resnet18-endtoend_1xb256-coslr-2e_fmnist.py',
    'mocov3/mocov3_resnet18_1xb256-coslr-2e_fmnist.py',
    'simclr/simclr_resnet18_1xb256-coslr-1e_fmnist.py',
    'simmim/simmim_vit-tiny-p4_1xb256-coslr-2e_fmnist.py',
    'simsiam/simsiam_resnet18_1xb256-coslr-2e_fmnist.py',
    'splitmask/splitmask_vit-tiny-p4_1xb256-coslr-2e_fmnist.py',
    'swav/swav_resnet18-mcrop2x24-6x12_1xb256-coslr-2e_fmnist.py',
]


# The switches of the fast GPU config (bf16 autocast, channels-last) on the MoCo v2 demo.
FAST_SWITCHES = dict(optim_wrapper=dict(type='AutocastOptimWrapper', dtype='bfloat16'),
                     model=dict(channels_last=True))


def _runner(config: str, work_dir: str, images: int = 32, batch: int = 8,
            **overrides) -> Runner:
    """The demo config on ``images`` images for one epoch, its kNN hook left out."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', config))
    cfg.merge_from_dict(overrides)
    cfg.merge_from_dict(dict(
        work_dir=work_dir, experiment_name=f'test-{uuid.uuid4().hex[:12]}',
        train_dataloader=dict(dataset=dict(indices=images), batch_size=batch, num_workers=0,
                              persistent_workers=False),
        train_cfg=dict(max_epochs=1),
        default_hooks=dict(logger=dict(interval=50), checkpoint=dict(interval=100)),
        log_level='WARNING'))
    cfg.custom_hooks = [hook for hook in cfg.get('custom_hooks', [])
                        if hook['type'] != 'KNNEvalHook']
    return Runner.from_cfg(cfg)


def _record_iterations(monkeypatch, runner: Runner) -> HostCallRecorder:
    """Records the host round trips of the training iterations but the first and last."""
    recorder, done = HostCallRecorder(monkeypatch), [0]
    loop = runner.train_loop
    run_iter = loop.run_iter

    def recorded_iter(*args, **kwargs):
        done[0] += 1
        if done[0] in (1, loop.max_iters):
            return run_iter(*args, **kwargs)
        with recorder:
            return run_iter(*args, **kwargs)
    monkeypatch.setattr(loop, 'run_iter', recorded_iter)
    return recorder


@pytest.mark.parametrize('config, overrides',
                         [(config, {}) for config in CONFIGS]
                         + [('mocov2/mocov2_resnet18_1xb256-coslr-2e_fmnist.py', FAST_SWITCHES)])
def test_training_iteration_makes_no_host_round_trip(config, overrides, tmp_path,
                                                     monkeypatch, fashion_mnist_root):
    runner = _runner(config, str(tmp_path), **overrides)
    recorder = _record_iterations(monkeypatch, runner)
    runner.train()
    monkeypatch.undo()
    assert runner.iter == 4
    assert recorder.calls == []


def test_the_counter_sees_a_host_read(tmp_path, monkeypatch, fashion_mnist_root):
    # The check above can fail: a loss that reads itself back is caught, by name and line.
    runner = _runner('mocov2/mocov2_resnet18_1xb256-coslr-2e_fmnist.py', str(tmp_path))
    real_loss = runner.model.loss

    def loss_read_back(inputs, data_samples=None):
        losses = real_loss(inputs, data_samples)
        losses['loss'].item()
        return losses
    runner.model.loss = loss_read_back
    recorder = _record_iterations(monkeypatch, runner)
    runner.train()
    monkeypatch.undo()
    calls = recorder.calls
    assert len(calls) == 2 and all(call.startswith('item at ') for call in calls), calls
    assert calls[0].endswith(f'{__file__}:{loss_read_back.__code__.co_firstlineno + 2}')
