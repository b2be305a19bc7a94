import math

import pytest
import torch
from torch import nn

from mmssl.models.utils import cosine_momentum, ema_update_


def test_ema_update_is_exactly_the_formula():
    torch.manual_seed(0)
    online, target = nn.Linear(5, 3), nn.Linear(5, 3)
    before = [p.clone() for p in target.parameters()]
    m = 0.99
    ema_update_(target, online, m)
    for new, old, src in zip(target.parameters(), before, online.parameters()):
        assert torch.equal(new, m * old + (1 - m) * src)


def test_ema_leaves_buffers_and_the_online_network_alone():
    online, target = nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    online.running_mean.fill_(5.0)
    online_weight = online.weight.clone()
    ema_update_(target, online, 0.5)
    assert torch.equal(target.running_mean, torch.zeros(3))
    assert torch.equal(online.weight, online_weight)


def test_ema_refuses_networks_of_different_structure():
    with pytest.raises(ValueError, match='same structure'):
        ema_update_(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)), 0.9)


def test_cosine_momentum_schedule():
    assert cosine_momentum(0.996, 1.0, 0, 100) == pytest.approx(0.996)
    assert cosine_momentum(0.996, 1.0, 100, 100) == pytest.approx(1.0)
    mid = 1.0 - 0.004 * (math.cos(math.pi * 0.25) + 1) / 2
    assert cosine_momentum(0.996, 1.0, 25, 100) == pytest.approx(mid)
    with pytest.raises(ValueError, match='max_iters'):
        cosine_momentum(0.9, 1.0, 0, 0)
