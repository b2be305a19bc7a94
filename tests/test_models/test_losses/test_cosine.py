import math

import pytest
import torch

from mmssl.models.losses import negative_cosine_similarity, normalized_l2


def _rows(seed, n=5, d=7):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed)).double()


def _cos(u, v):
    dot = sum(float(a) * float(b) for a, b in zip(u, v))
    return dot / math.sqrt(sum(float(a) ** 2 for a in u) * sum(float(b) ** 2 for b in v))


def test_normalized_l2_is_the_squared_distance_of_the_unit_vectors():
    """BYOL: ||p/|p| - z/|z| ||^2 = 2 - 2 cos, averaged over the batch."""
    p, z = _rows(0), _rows(1)
    distances = []
    for i in range(p.shape[0]):
        norm_p = math.sqrt(sum(float(x) ** 2 for x in p[i]))
        norm_z = math.sqrt(sum(float(x) ** 2 for x in z[i]))
        distances.append(sum((float(a) / norm_p - float(b) / norm_z) ** 2
                             for a, b in zip(p[i], z[i])))
        assert distances[-1] == pytest.approx(2 - 2 * _cos(p[i], z[i]))
    assert normalized_l2(p, z).item() == pytest.approx(sum(distances) / len(distances))


def test_negative_cosine_similarity_matches_the_formula_and_ignores_the_norms():
    p, z = _rows(2), _rows(3)
    expected = -sum(_cos(p[i], z[i]) for i in range(p.shape[0])) / p.shape[0]
    assert negative_cosine_similarity(p, z).item() == pytest.approx(expected)
    scale = torch.arange(1, 6, dtype=torch.double).view(5, 1)
    assert negative_cosine_similarity(3 * p, scale * z).item() == pytest.approx(expected)
    assert negative_cosine_similarity(p, p).item() == pytest.approx(-1.0)
    assert normalized_l2(p, p).item() == pytest.approx(0.0, abs=1e-12)


def test_the_losses_apply_no_stop_gradient_themselves():
    p, z = _rows(4).requires_grad_(), _rows(5).requires_grad_()
    normalized_l2(p, z).backward()
    assert p.grad.abs().sum() > 0 and z.grad.abs().sum() > 0
