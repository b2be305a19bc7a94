"""The Barlow Twins head over two gloo processes equals one process with the global batch."""
import pytest
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from mmssl.models.heads import BarlowTwinsHead
from mmssl.models.losses import barlow_twins_loss
from tests._dist import run_distributed

GLOBAL_BATCH, DIM = 8, 5


def _global_views():
    gen = torch.Generator().manual_seed(0)
    return torch.randn(GLOBAL_BATCH, DIM, generator=gen), torch.randn(GLOBAL_BATCH, DIM,
                                                                      generator=gen)


def _projector():
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(DIM, 16), nn.ReLU(), nn.Linear(16, 6))


def _ddp_loss_and_grads(rank, world_size):
    x_a, x_b = _global_views()
    n = GLOBAL_BATCH // world_size
    local = slice(rank * n, (rank + 1) * n)
    model = DistributedDataParallel(_projector())
    loss = BarlowTwinsHead().loss(model(x_a[local]), model(x_b[local]))
    loss.backward()
    return dict(loss=loss.detach(), grads=[p.grad.clone() for p in model.module.parameters()])


def test_distributed_loss_and_gradients_equal_one_process_with_the_global_batch():
    x_a, x_b = _global_views()
    model = _projector()
    loss = BarlowTwinsHead().loss(model(x_a), model(x_b))
    loss.backward()
    expected = [p.grad for p in model.parameters()]

    ranks = run_distributed(_ddp_loss_and_grads, 2)
    for rank in ranks:  # every rank: C of the global batch, so the single-process loss
        assert rank['loss'].item() == pytest.approx(loss.item(), rel=1e-5)
        for got, want in zip(rank['grads'], expected):
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)
    # can fail: C of a rank's own half-batch is another number
    with torch.no_grad():
        half = barlow_twins_loss(model(x_a[:4]), model(x_b[:4]))
    assert half.item() != pytest.approx(loss.item(), rel=1e-2)


def test_the_loss_is_computed_in_float32_under_autocast():
    z_a, z_b = _global_views()
    with torch.autocast(device_type='cpu', dtype=torch.bfloat16):
        got = BarlowTwinsHead().loss(z_a, z_b)
    assert got.dtype == torch.float32
    assert got.item() == pytest.approx(barlow_twins_loss(z_a, z_b).item(), rel=1e-6)
