import math

import pytest
import torch

from mmssl.models.losses import cross_view_cross_entropy


def _softmax_row(row, tau):
    exps = [math.exp(v / tau) for v in row]
    return [e / sum(exps) for e in exps]


def test_matches_the_mean_over_view_pairs_written_out():
    torch.manual_seed(0)
    views, batch, classes, tau = 4, 3, 5, 0.1
    logits = [torch.randn(batch, classes) for _ in range(views)]
    targets = [torch.softmax(torch.randn(batch, classes), dim=1) for _ in range(2)]
    loss = cross_view_cross_entropy(targets, logits, tau)

    total, pairs = 0.0, 0
    for i in range(2):
        for v in range(views):
            if v == i:
                continue
            pair = 0.0
            for n in range(batch):
                probs = _softmax_row(logits[v][n].tolist(), tau)
                pair -= sum(t * math.log(p) for t, p in zip(targets[i][n].tolist(), probs))
            total += pair / batch
            pairs += 1
    assert pairs == 2 * (views - 1)
    assert loss.item() == pytest.approx(total / pairs, rel=1e-5)


def test_wrong_view_counts_are_refused():
    with pytest.raises(ValueError, match='2 targets and 1 views'):
        cross_view_cross_entropy([torch.ones(1, 2)] * 2, [torch.ones(1, 2)], 0.1)
