"""mmssl's LARS: mmpretrain's update, without reading the norms back to the host."""
import copy

import pytest
import torch
from mmpretrain.engine.optimizers import LARS as MMPretrainLARS
from torch import nn

from mmssl.engine.optimizers import LARS
from mmssl.registry import OPTIMIZERS
from tests._helpers import HostCallRecorder


def _model() -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8, bias=False), nn.BatchNorm1d(8), nn.ReLU(),
                          nn.Linear(8, 3), nn.Linear(3, 2, bias=False))
    with torch.no_grad():
        model[4].weight.zero_()  # |p| = 0 at the first step: trust ratio 1
    return model


def _groups(model: nn.Module) -> list[dict]:
    """Weights with LARS; biases and BN without it (the configs' lars_exclude), lr x 0.1."""
    weights = [p for p in model.parameters() if p.dim() > 1]
    others = [p for p in model.parameters() if p.dim() == 1]
    return [dict(params=weights),
            dict(params=others, lr=0.03, weight_decay=0, lars_exclude=True)]


def _train(optimizer_class, steps: int = 5, **kwargs) -> tuple[nn.Module, object]:
    model = _model()
    optimizer = optimizer_class(_groups(model), **kwargs)
    generator = torch.Generator().manual_seed(1)
    inputs = torch.randn(16, 6, generator=generator)
    targets = torch.randn(16, 2, generator=generator)
    for step in range(steps):
        optimizer.zero_grad()
        (model(inputs) - targets).pow(2).mean().backward()
        if step == 1:
            model[3].bias.grad.zero_()  # |g| = 0 in an excluded group
            model[3].weight.grad = None  # a parameter without a gradient is skipped
        optimizer.step()
    return model, optimizer


@pytest.mark.parametrize('kwargs', [
    dict(lr=0.3, momentum=0.9, weight_decay=1e-4),
    dict(lr=0.3, momentum=0.9, weight_decay=1e-4, nesterov=True, eta=0.02),
    dict(lr=0.1, momentum=0.5, dampening=0.3, weight_decay=0.0),
    dict(lr=0.2),
])
def test_same_updates_as_mmpretrain(kwargs):
    ours, ours_optimizer = _train(LARS, **kwargs)
    theirs, theirs_optimizer = _train(MMPretrainLARS, **kwargs)
    for (name, a), b in zip(ours.named_parameters(), theirs.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7, msg=name)
    for a, b in zip(ours.parameters(), _model().parameters()):
        assert not torch.equal(a, b)  # every parameter trained
    if kwargs.get('momentum'):
        for a, b in zip(ours_optimizer.state.values(), theirs_optimizer.state.values()):
            torch.testing.assert_close(a['momentum_buffer'], b['momentum_buffer'],
                                       rtol=1e-5, atol=1e-7)


def _host_round_trips(monkeypatch, optimizer_class) -> list[str]:
    """The host round trips of two steps of the optimizer."""
    model = _model()
    optimizer = optimizer_class(_groups(model), lr=0.3, momentum=0.9, weight_decay=1e-4)
    model(torch.randn(4, 6)).sum().backward()
    with HostCallRecorder(monkeypatch) as recorder:
        optimizer.step()
        optimizer.step()
    monkeypatch.undo()
    return recorder.calls


def test_a_step_reads_nothing_back_from_the_device(monkeypatch):
    assert _host_round_trips(monkeypatch, LARS) == []
    # mmpretrain's reads two norms per LARS-scaled tensor per step (3 weights x 2 x 2 steps).
    calls = _host_round_trips(monkeypatch, MMPretrainLARS)
    assert len(calls) == 12 and all(call.startswith('item at ') for call in calls), calls


def test_state_loads_from_and_into_mmpretrain():
    _, theirs_optimizer = _train(MMPretrainLARS, steps=2, lr=0.3, momentum=0.9)
    resumed = LARS(_groups(_model()), lr=0.3, momentum=0.9)
    resumed.load_state_dict(copy.deepcopy(theirs_optimizer.state_dict()))
    assert resumed.state_dict()['state'].keys() == theirs_optimizer.state_dict()['state'].keys()
    back = MMPretrainLARS(_groups(_model()), lr=0.3, momentum=0.9)
    back.load_state_dict(resumed.state_dict())


def test_type_lars_builds_mmssl_lars_in_the_mmssl_scope():
    optimizer = OPTIMIZERS.build(dict(type='LARS', params=_model().parameters(), lr=0.1))
    assert type(optimizer) is LARS


@pytest.mark.parametrize('kwargs, match', [
    (dict(lr=-1.0), 'lr must be >= 0, got -1.0'),
    (dict(lr=0.1, momentum=-0.1), 'momentum must be >= 0'),
    (dict(lr=0.1, weight_decay=-1.0), 'weight_decay must be >= 0'),
    (dict(lr=0.1, eta=-0.1), 'eta must be >= 0'),
    (dict(lr=0.1, nesterov=True), 'nesterov needs momentum > 0 and dampening 0'),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LARS(_model().parameters(), **kwargs)
