"""A NaN/Inf loss or gradient with ``skip_nonfinite=True``: the optimizer step is skipped
(parameters and optimizer state bitwise unchanged), counted and logged as
``skipped_steps``; too many skips stop training by name. With the option off a NaN loss
still stops the run (tests/test_engine/test_hooks/test_deferred_log_hook.py)."""
import copy
import glob
import json
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner
from torch import nn

from mmssl.engine import NonFiniteLossError, SkipNonFiniteOptimWrapper
from mmssl.registry import OPTIM_WRAPPERS
from tests._helpers import DEMO_CONFIG, tiny_run_overrides

SGD = dict(type='SGD', lr=0.06, momentum=0.9, weight_decay=5e-4)
ADAMW = dict(type='AdamW', lr=1e-3, weight_decay=0.05)
# float32 with SGD momentum buffers; bfloat16 autocast with Adam moments and step counts
WRAPPERS = {
    'fp32-sgd': dict(type='SkipNonFiniteOptimWrapper', optimizer=SGD),
    'bf16-adamw': dict(type='AutocastOptimWrapper', skip_nonfinite=True, optimizer=ADAMW),
}
ITERS = 6


# ---------------------------------------------------------------- a real tiny runner
class _StepProbe(Hook):
    """Copies the trained parameters and the optimizer state around chosen iterations."""

    priority = 'HIGHEST'  # before the momentum encoder's EMA and the checkpoint

    def __init__(self, iters) -> None:
        self.iters, self.before, self.after = set(iters), {}, {}

    @staticmethod
    def _snapshot(runner) -> dict:
        params = {name: p.detach().clone() for name, p in runner.model.named_parameters()
                  if p.requires_grad}
        return dict(params=params,
                    state=copy.deepcopy(runner.optim_wrapper.optimizer.state_dict()['state']))

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter in self.iters:
            self.before[runner.iter] = self._snapshot(runner)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if runner.iter in self.iters:
            self.after[runner.iter] = self._snapshot(runner)


def _runner(work_dir, optim_wrapper: dict, nan_iters):
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict(tiny_run_overrides(work_dir, images=ITERS * 8, batch=8,
                                           deterministic=True))
    cfg.optim_wrapper = optim_wrapper
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=2)
    cfg.default_hooks.checkpoint = dict(type='AtomicCheckpointHook', interval=2,
                                        by_epoch=False)
    cfg.randomness = dict(seed=0, deterministic=True)
    runner = Runner.from_cfg(cfg)
    real_loss = runner.model.loss

    def loss_nan_at_chosen_iterations(inputs, data_samples=None):
        losses = real_loss(inputs, data_samples)
        if runner.iter in nan_iters:
            losses['loss'] = losses['loss'] * math.nan
        return losses
    runner.model.loss = loss_nan_at_chosen_iterations
    return runner


def _assert_equal(a: dict, b: dict) -> None:
    assert a['params'].keys() == b['params'].keys()
    for name, value in a['params'].items():
        assert torch.equal(value, b['params'][name]), name
    assert a['state'].keys() == b['state'].keys() and a['state']
    for index, state in a['state'].items():
        assert state.keys() == b['state'][index].keys()
        for key, value in state.items():
            assert torch.equal(value, b['state'][index][key]), (index, key)


@pytest.mark.parametrize('wrapper', list(WRAPPERS))
def test_a_nan_step_is_skipped_bitwise_and_training_goes_on(tmp_path, wrapper,
                                                            fashion_mnist_root):
    k = 2  # 0-based: the 3rd step, after the optimizer state exists
    runner = _runner(str(tmp_path), WRAPPERS[wrapper], nan_iters={k})
    probe = _StepProbe({k, k + 1})
    runner.register_hook(probe)
    runner.train()

    assert runner.iter == ITERS
    _assert_equal(probe.before[k], probe.after[k])  # parameters and state untouched
    later = probe.after[k + 1]
    assert any(not torch.equal(value, probe.after[k]['params'][name])
               for name, value in later['params'].items())
    if wrapper == 'bf16-adamw':  # one Adam step fewer than iterations
        steps = {float(state['step']) for state in later['state'].values()}
        assert steps == {k + 1.0}, steps

    assert runner.optim_wrapper.skipped_steps == 1
    losses = runner.message_hub.get_scalar('train/loss').data[0].tolist()
    assert len(losses) == ITERS - 1 and all(map(math.isfinite, losses)), losses
    path, = glob.glob(osp.join(str(tmp_path), '*', 'vis_data', 'scalars.json'))
    logged = [json.loads(line) for line in open(path)]
    assert [(line['iter'], line['skipped_steps']) for line in logged] == [(2, 0), (4, 1),
                                                                          (6, 1)], logged
    ckpt = torch.load(osp.join(str(tmp_path), f'iter_{ITERS}.pth'), map_location='cpu',
                      weights_only=False)
    assert ckpt['optimizer']['nonfinite_skips'] == dict(total=1, consecutive=0)


def test_too_many_skips_in_a_row_stop_naming_the_iteration_and_the_checkpoint(
        tmp_path, fashion_mnist_root):
    cfg = dict(WRAPPERS['fp32-sgd'], max_consecutive_skips=2)
    runner = _runner(str(tmp_path), cfg, nan_iters=set(range(2, ITERS)))
    with pytest.raises(NonFiniteLossError,
                       match=r'non-finite loss or gradient at iteration 5: 3 steps skipped in '
                             r'a row, 3 in all .*Last checkpoint: .*iter_4\.pth'):
        runner.train()
    assert runner.iter == 4  # 0-based: stopped in the 5th iteration


# ---------------------------------------------------------------- the wrapper alone
def _wrapper(kind: str, **kwargs):
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    cfg = copy.deepcopy(WRAPPERS[kind])
    opt_cfg = cfg.pop('optimizer')
    optimizer = getattr(torch.optim, opt_cfg.pop('type'))(model.parameters(), **opt_cfg)
    return model, OPTIM_WRAPPERS.build(dict(cfg, optimizer=optimizer, **kwargs))


def _state(model, wrapper) -> dict:
    return dict(params={n: p.detach().clone() for n, p in model.named_parameters()},
                state=copy.deepcopy(wrapper.optimizer.state_dict()['state']))


def _loss(model, wrapper, bad: str = ''):
    with wrapper.optim_context(model):
        loss = model(torch.randn(5, 4)).float().pow(2).mean()
    if bad == 'loss':  # a non-finite loss whose gradients are finite
        loss = loss + torch.tensor(math.inf)
    elif bad == 'grad':  # a finite loss whose gradients are not
        loss.register_hook(lambda grad: grad * math.nan)
    return loss


@pytest.mark.parametrize('bad', ['loss', 'grad'])
@pytest.mark.parametrize('kind', list(WRAPPERS))
def test_the_wrapper_skips_a_nonfinite_loss_or_gradient(kind, bad):
    model, wrapper = _wrapper(kind)
    wrapper.update_params(_loss(model, wrapper))
    before = _state(model, wrapper)
    wrapper.update_params(_loss(model, wrapper, bad))
    _assert_equal(_state(model, wrapper), before)
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())
    assert (wrapper.skipped_steps, wrapper.consecutive_skips) == (1, 1)
    wrapper.update_params(_loss(model, wrapper))
    assert not torch.equal(model.weight, before['params']['weight'])
    assert (wrapper.skipped_steps, wrapper.consecutive_skips) == (1, 0)
    assert MessageHub.get_current_instance().get_scalar('train/skipped_steps').current() == 1


def test_gradient_accumulation_skips_the_whole_accumulated_step():
    model, wrapper = _wrapper('fp32-sgd', accumulative_counts=2)
    hub = MessageHub.get_current_instance()
    for it in range(2):
        hub.update_info('iter', it)
        wrapper.update_params(_loss(model, wrapper))
    before = _state(model, wrapper)
    hub.update_info('iter', 2)
    wrapper.update_params(_loss(model, wrapper, 'loss'))  # first micro-step: no step yet
    hub.update_info('iter', 3)
    wrapper.update_params(_loss(model, wrapper))
    _assert_equal(_state(model, wrapper), before)
    assert wrapper.skipped_steps == 1 and set(wrapper.skipped_iters) == {2, 3}
    for it in (4, 5):
        hub.update_info('iter', it)
        wrapper.update_params(_loss(model, wrapper))
    assert not torch.equal(model.weight, before['params']['weight'])


def test_the_total_limit_and_the_arguments():
    model, wrapper = _wrapper('fp32-sgd', max_skipped_steps=1)
    wrapper.update_params(_loss(model, wrapper, 'loss'))
    wrapper.update_params(_loss(model, wrapper))
    with pytest.raises(NonFiniteLossError, match=r'1 steps skipped in a row, 2 in all'):
        wrapper.update_params(_loss(model, wrapper, 'grad'))
    with pytest.raises(ValueError, match='max_consecutive_skips must be >= 0, got -1'):
        _wrapper('fp32-sgd', max_consecutive_skips=-1)
    with pytest.raises(ValueError, match='max_skipped_steps must be >= 0 or None, got -2'):
        _wrapper('bf16-adamw', max_skipped_steps=-2)


def test_the_counts_resume_and_a_plain_optim_wrapper_loads_the_state():
    model, wrapper = _wrapper('fp32-sgd')
    wrapper.update_params(_loss(model, wrapper))
    wrapper.update_params(_loss(model, wrapper, 'loss'))
    state = wrapper.state_dict()
    assert state['nonfinite_skips'] == dict(total=1, consecutive=1)
    _, resumed = _wrapper('fp32-sgd')
    assert (resumed.skipped_steps, resumed.consecutive_skips) == (0, 0)  # a fresh start
    resumed.load_state_dict(state)
    assert (resumed.skipped_steps, resumed.consecutive_skips) == (1, 1)
    assert isinstance(resumed, SkipNonFiniteOptimWrapper)
    plain = OptimWrapper(torch.optim.SGD(nn.Linear(4, 3).parameters(), lr=0.1, momentum=0.9))
    plain.load_state_dict(state)  # the extra entry is ignored


@pytest.mark.parametrize('kind', list(WRAPPERS))
def test_skip_mode_alone_reads_the_device_once_per_step(kind, monkeypatch):
    reads = []
    for name in ('item', 'tolist', '__bool__', '__float__', '__int__'):
        original = getattr(torch.Tensor, name)

        def counted(tensor, *args, _original=original, **kwargs):
            reads.append(1)
            return _original(tensor, *args, **kwargs)
        monkeypatch.setattr(torch.Tensor, name, counted)
    counts = {}
    for skip in (False, True):
        model, wrapper = _wrapper(kind, skip_nonfinite=skip)
        reads.clear()
        for _ in range(3):
            wrapper.update_params(_loss(model, wrapper))
        counts[skip] = len(reads)
    # SGD reads nothing; torch's AdamW reads its step count, a CPU tensor, each step.
    assert counts[False] == {'fp32-sgd': 0, 'bf16-adamw': 6}[kind], counts
    assert counts[True] - counts[False] == 3, counts  # skip mode: one read per step


def _skip_on_one_rank(rank, world_size):
    """Rank 1's loss is NaN at the first step, rank 0's is finite; then both are finite."""
    from mmssl.engine.optimizers.skip_nonfinite import SkipNonFiniteOptimWrapper
    torch.manual_seed(0)  # the same weights on both ranks
    model = torch.nn.Linear(3, 1)
    wrapper = SkipNonFiniteOptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    start = [p.detach().clone() for p in model.parameters()]
    x = torch.ones(2, 3)
    loss = model(x).sum()
    if rank == 1:
        loss = loss * float('nan')
    wrapper.update_params(loss)
    after_bad = [p.detach().clone() for p in model.parameters()]
    wrapper.update_params(model(x).sum())
    after_good = [p.detach().clone() for p in model.parameters()]
    return dict(unchanged=all(torch.equal(a, b) for a, b in zip(start, after_bad)),
                moved=not any(torch.equal(a, b) for a, b in zip(after_bad, after_good)),
                skipped=wrapper.skipped_steps)


@pytest.mark.dist
def test_a_nan_on_one_rank_skips_the_step_on_every_rank():
    from tests._dist import run_distributed
    results = run_distributed(_skip_on_one_rank, 2)
    assert results == [dict(unchanged=True, moved=True, skipped=1)] * 2
