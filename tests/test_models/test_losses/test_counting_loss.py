"""mmssl/models/losses/counting.py."""
import pytest
import torch

from mmssl.models.losses import counting_loss


def test_matches_a_direct_recomputation():
    gen = torch.Generator().manual_seed(0)
    down = torch.rand(5, 6, generator=gen)
    tiles = torch.rand(5, 4, 6, generator=gen) * 0.5
    other = torch.rand(5, 6, generator=gen) * 3
    for margin in (10.0, 0.5):
        expected = 0.0
        for i in range(5):
            total = sum(tiles[i, j] for j in range(4))
            pos = sum(float(down[i, k] - total[k]) ** 2 for k in range(6))
            neg = sum(float(other[i, k] - total[k]) ** 2 for k in range(6))
            expected += pos + max(0.0, margin - neg)
        loss = counting_loss(down, tiles, other, margin)
        assert loss.item() == pytest.approx(expected / 5, rel=1e-5)
    # margin 10 exercises both sides of the hinge (pairs within and past the margin),
    # margin 0.5 only its clipped side
    neg = (other - tiles.sum(1)).pow(2).sum(1)
    assert (neg < 10).any() and (neg > 10).any() and (neg > 0.5).all()


def test_the_trivial_solution_costs_the_margin_per_pair():
    zeros = torch.zeros(3, 8)
    assert counting_loss(zeros, torch.zeros(3, 4, 8), zeros, 10.0).item() == 10.0
    assert counting_loss(zeros, torch.zeros(3, 4, 8), zeros, 2.5).item() == 2.5


def test_gradients_and_shape_errors():
    down = torch.rand(2, 3, requires_grad=True)
    tiles = torch.rand(2, 4, 3, requires_grad=True)
    counting_loss(down, tiles, down.roll(1, 0)).backward()
    assert down.grad.abs().sum() > 0 and tiles.grad.abs().sum() > 0
    with pytest.raises(ValueError, match=r'tiles \(N, T, K\)'):
        counting_loss(torch.rand(2, 3), torch.rand(2, 3), torch.rand(2, 3))
