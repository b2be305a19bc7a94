import math

import pytest
import torch

from mmssl.models.losses import barlow_twins_loss, cross_correlation


def _batch(seed, n=6, d=4):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed)).double()


def _barlow_by_loops(z_a, z_b, lambd, eps=1e-5):
    """sum_i (1 - C_ii)^2 + lambd sum_{i!=j} C_ij^2, C of the batch-standardised views."""
    n, d = z_a.shape

    def standardised(z):
        cols = []
        for j in range(d):
            col = [float(z[k, j]) for k in range(n)]
            mean = sum(col) / n
            var = sum((x - mean) ** 2 for x in col) / n  # biased, as BatchNorm
            cols.append([(x - mean) / math.sqrt(var + eps) for x in col])
        return cols  # cols[j][k]

    a, b = standardised(z_a), standardised(z_b)
    loss = 0.0
    for i in range(d):
        for j in range(d):
            c_ij = sum(a[i][k] * b[j][k] for k in range(n)) / n
            loss += (1 - c_ij) ** 2 if i == j else lambd * c_ij ** 2
    return loss


def test_loss_matches_the_formula():
    z_a, z_b = _batch(0), _batch(1)
    got = barlow_twins_loss(z_a, z_b, lambd=0.0051)
    assert got.item() == pytest.approx(_barlow_by_loops(z_a, z_b, 0.0051), rel=1e-10)
    # the weight really multiplies the off-diagonal sum only
    got_1 = barlow_twins_loss(z_a, z_b, lambd=1.0)
    assert got_1.item() == pytest.approx(_barlow_by_loops(z_a, z_b, 1.0), rel=1e-10)
    assert got_1.item() > got.item()


def test_identical_decorrelated_views_give_almost_zero_loss():
    # two +-1 features, each of mean 0 and variance 1, uncorrelated: C = I / (1 + eps)
    z = torch.tensor([[1., 1.], [1., -1.], [-1., 1.], [-1., -1.]]).double()
    torch.testing.assert_close(cross_correlation(z, z), torch.eye(2).double() / (1 + 1e-5))
    assert barlow_twins_loss(z, z).item() < 1e-9


def test_cross_correlation_ignores_the_scale_and_offset_of_each_feature():
    z_a, z_b = _batch(2), _batch(3)
    scale, shift = torch.tensor([1., 3., 0.5, 7.]).double(), torch.tensor([5., -2., 0., 1.])
    torch.testing.assert_close(cross_correlation(z_a * scale + shift, z_b, eps=0.0),
                               cross_correlation(z_a, z_b, eps=0.0))


def test_views_of_different_shapes_are_refused():
    with pytest.raises(ValueError, match=r'\(6, 4\) and \(6, 3\)'):
        barlow_twins_loss(_batch(0), _batch(1, d=3))
