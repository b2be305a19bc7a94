import math

import pytest
import torch
import torch.nn.functional as F

from mmssl.models.losses import info_nce, nt_xent


def _unit(*shape, seed=0):
    return F.normalize(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), dim=-1)


def test_info_nce_matches_the_formula():
    q, k, negatives, tau = _unit(4, 8, seed=1), _unit(4, 8, seed=2), _unit(16, 8, seed=3), 0.2
    expected = 0.0
    for i in range(4):
        pos = math.exp(float(q[i] @ k[i]) / tau)
        denom = pos + sum(math.exp(float(q[i] @ n) / tau) for n in negatives)
        expected += -math.log(pos / denom)
    expected /= 4
    assert info_nce(q, k, negatives, tau).item() == pytest.approx(expected, rel=1e-5)


def test_nt_xent_matches_the_simclr_formula():
    """l(i, j) = -log exp(s_ij/t) / sum_{k != i} exp(s_ik/t), averaged over all 2B views."""
    batch, tau = 5, 0.5
    z = torch.cat([_unit(batch, 6, seed=4), _unit(batch, 6, seed=5)])  # views a then b
    pair = [i + batch if i < batch else i - batch for i in range(2 * batch)]
    expected = 0.0
    for i in range(2 * batch):
        num = math.exp(float(z[i] @ z[pair[i]]) / tau)
        denom = sum(math.exp(float(z[i] @ z[k]) / tau) for k in range(2 * batch) if k != i)
        expected += -math.log(num / denom)
    expected /= 2 * batch
    index = torch.arange(2 * batch)
    got = nt_xent(z, z, torch.tensor(pair), index, tau)
    assert got.item() == pytest.approx(expected, rel=1e-5)


def test_nt_xent_gradient_is_finite_despite_the_masked_self_similarity():
    z = _unit(6, 4, seed=6).requires_grad_()
    pair = torch.tensor([3, 4, 5, 0, 1, 2])
    nt_xent(z, z, pair, torch.arange(6), 0.1).backward()
    assert torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0
