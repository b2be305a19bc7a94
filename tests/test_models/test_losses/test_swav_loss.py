import math

import pytest
import torch
import torch.nn.functional as F

from mmssl.models.losses import sinkhorn_knopp
from tests._dist import run_distributed

BATCH, PROTOTYPES = 8, 5


def _cosine_scores(batch=BATCH, prototypes=PROTOTYPES, dim=4, seed=0):
    """(batch, prototypes) cosines of random unit features and prototypes."""
    gen = torch.Generator().manual_seed(seed)
    z = F.normalize(torch.randn(batch, dim, generator=gen), dim=1)
    c = F.normalize(torch.randn(prototypes, dim, generator=gen), dim=1)
    return z @ c.t()


def _sinkhorn_written_out(scores, iters, eps):
    """The paper's algorithm on lists: Q = exp(S^T / eps), rows to 1/K, columns to 1/B."""
    b, k = len(scores), len(scores[0])
    q = [[math.exp(scores[n][p] / eps) for n in range(b)] for p in range(k)]
    total = sum(map(sum, q))
    q = [[v / total for v in row] for row in q]
    for _ in range(iters):
        q = [[v / sum(row) / k for v in row] for row in q]
        col = [sum(q[p][n] for p in range(k)) for n in range(b)]
        q = [[q[p][n] / col[n] / b for n in range(b)] for p in range(k)]
    return [[q[p][n] * b for p in range(k)] for n in range(b)]


def test_matches_the_algorithm_written_out():
    scores = _cosine_scores()
    codes = sinkhorn_knopp(scores, num_iters=3, epsilon=0.05)
    expected = torch.tensor(_sinkhorn_written_out(scores.tolist(), 3, 0.05))
    torch.testing.assert_close(codes, expected, rtol=1e-4, atol=1e-6)


def test_marginals_rows_one_over_b_and_columns_one_over_k():
    scores = _cosine_scores(batch=64, prototypes=16, dim=128)  # the paper's D
    for iters, tol in ((3, 0.05), (30, 1e-4)):
        plan = sinkhorn_knopp(scores, num_iters=iters, epsilon=0.05) / 64  # before rescale
        torch.testing.assert_close(plan.sum(dim=1), torch.full((64,), 1 / 64))
        # Each prototype's share of the batch, relative to 1/K.
        assert ((plan.sum(dim=0) * 16 - 1).abs() < tol).all(), iters


def test_codes_are_a_diagonal_scaling_of_exp_scores_over_epsilon():
    scores = _cosine_scores()
    residual = torch.log(sinkhorn_knopp(scores, 3, 0.05)) - scores / 0.05
    # log Q = S/eps + a_n + b_k: the residual is a sum of a row and a column term.
    centred = residual - residual[:, :1] - residual[:1, :] + residual[0, 0]
    assert centred.abs().max() < 1e-3


def _sinkhorn_on_rank(rank, world_size, scores):
    rows = scores.shape[0] // world_size
    return sinkhorn_knopp(scores[rank * rows:(rank + 1) * rows], 3, 0.05)


@pytest.mark.dist
def test_two_processes_get_their_rows_of_the_single_process_codes():
    scores = _cosine_scores()
    per_rank = run_distributed(_sinkhorn_on_rank, 2, scores)
    torch.testing.assert_close(torch.cat(per_rank), sinkhorn_knopp(scores, 3, 0.05))
