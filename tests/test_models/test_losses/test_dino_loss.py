import math

import pytest
import torch

from mmssl.models.losses import dino_loss


def test_matches_the_paper_formula_written_out():
    """-sum softmax((t_i - c) / tau_t) * log_softmax(s_v / tau_s), mean over v != i."""
    torch.manual_seed(0)
    batch, dim, tau_s, tau_t = 2, 6, 0.1, 0.04
    student = [torch.randn(batch, dim) for _ in range(5)]
    teacher = [torch.randn(batch, dim) for _ in range(2)]
    center = torch.randn(1, dim) * 0.1
    loss = dino_loss(student, teacher, center, tau_s, tau_t)

    total, pairs = 0.0, 0
    for i, t in enumerate(teacher):
        for v, s in enumerate(student):
            if v == i:
                continue
            for n in range(batch):
                t_exp = [math.exp((t[n, k] - center[0, k]).item() / tau_t) for k in range(dim)]
                s_exp = [math.exp(s[n, k].item() / tau_s) for k in range(dim)]
                total -= sum(te / sum(t_exp) * math.log(se / sum(s_exp))
                             for te, se in zip(t_exp, s_exp)) / batch
            pairs += 1
    assert loss.item() == pytest.approx(total / pairs, rel=1e-5)


def test_no_gradient_reaches_the_teacher():
    student = [torch.randn(2, 4, requires_grad=True) for _ in range(3)]
    teacher = [torch.randn(2, 4, requires_grad=True) for _ in range(2)]
    dino_loss(student, teacher, torch.zeros(4), 0.1, 0.04).backward()
    assert all(s.grad is not None for s in student)
    assert all(t.grad is None for t in teacher)
