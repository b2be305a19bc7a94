import math

import pytest
import torch
from mmengine.optim.scheduler import CosineAnnealingLR, LinearLR

from mmssl.engine.schedulers import FixedGroupLR


def _optimizer(lr=0.1):
    trunk, predictor = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    return torch.optim.SGD([dict(params=trunk.parameters()),
                            dict(params=predictor.parameters(), fix_lr=True, lr=0.5 * lr)],
                           lr=lr, momentum=0.9)


def _step(optimizer, schedulers):
    optimizer.step()
    for scheduler in schedulers:  # in list order, as ParamSchedulerHook does
        scheduler.step()


def test_marked_group_keeps_its_initial_lr_while_the_others_follow_the_schedule():
    optimizer = _optimizer()
    schedulers = [CosineAnnealingLR(optimizer, T_max=4, by_epoch=False),
                  FixedGroupLR(optimizer)]
    for it in range(1, 5):
        _step(optimizer, schedulers)
        trunk, predictor = optimizer.param_groups
        assert trunk['lr'] == pytest.approx(0.1 * (1 + math.cos(math.pi * it / 4)) / 2)
        assert predictor['lr'] == 0.05


def test_marked_group_skips_the_warm_up_from_the_first_iteration():
    optimizer = _optimizer()
    schedulers = [LinearLR(optimizer, start_factor=0.01, end=3, by_epoch=False),
                  FixedGroupLR(optimizer)]
    assert [g['lr'] for g in optimizer.param_groups] == pytest.approx([0.001, 0.05])
    _step(optimizer, schedulers)
    assert optimizer.param_groups[1]['lr'] == 0.05
    # mmengine's LinearLR reaches factor 1 after end - 1 = 2 steps
    assert optimizer.param_groups[0]['lr'] == pytest.approx(0.1 * (0.01 + 0.99 / 2))


def test_an_optimizer_without_a_marked_group_is_refused():
    optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)
    with pytest.raises(ValueError, match='no parameter group is marked fix_lr=True'):
        FixedGroupLR(optimizer)
