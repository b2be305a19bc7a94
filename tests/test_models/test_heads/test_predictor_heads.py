import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from mmssl.models.heads import CosineRegressionHead, InfoNCEHead, PredictorHead
from tests._dist import run_distributed

GLOBAL_BATCH, DIM = 8, 6


class TupleLinear(nn.Linear):
    """A BN-free predictor with the necks' tuple interface."""

    def forward(self, x):
        return (super().forward(x[0]), )


def _predictor():
    torch.manual_seed(1)
    return TupleLinear(DIM, DIM)


def _views(seed=0, n=GLOBAL_BATCH):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(n, DIM, generator=gen) for _ in range(4)]  # z1, z2, t1, t2


def _cos(u, v):
    return float(u @ v) / (float(u.norm()) * float(v.norm()))


def test_byol_loss_pairs_each_prediction_with_the_other_views_target():
    head = PredictorHead(_predictor(), CosineRegressionHead('normalized_l2'))
    z1, z2, t1, t2 = _views()
    with torch.no_grad():
        p1, p2 = head.predictor((z1, ))[0], head.predictor((z2, ))[0]
    expected = sum(2 - 2 * _cos(p1[i], t2[i]) for i in range(GLOBAL_BATCH)) / GLOBAL_BATCH
    expected += sum(2 - 2 * _cos(p2[i], t1[i]) for i in range(GLOBAL_BATCH)) / GLOBAL_BATCH
    assert head.loss([z1, z2], [t1, t2]).item() == pytest.approx(expected, rel=1e-5)
    # pairing a prediction with its own view's target is a different number
    assert head.loss([z1, z2], [t2, t1]).item() != pytest.approx(expected, rel=1e-3)


def test_simsiam_targets_are_the_detached_projections():
    """D(p1, sg(z2))/2 + D(p2, sg(z1))/2: z_v gets gradient through p_v only."""
    head = PredictorHead(_predictor(), CosineRegressionHead('negative_cosine', loss_weight=0.5))
    z1, z2 = (z.requires_grad_() for z in _views()[:2])
    head.loss([z1, z2], [z1, z2]).backward()
    got = [z1.grad.clone(), z2.grad.clone()]

    y1, y2 = (z.detach().clone().requires_grad_() for z in (z1, z2))
    p1, p2 = head.predictor((y1, ))[0], head.predictor((y2, ))[0]
    direct = -(0.5 * F.cosine_similarity(p1, y2.detach()).mean()
               + 0.5 * F.cosine_similarity(p2, y1.detach()).mean())
    direct.backward()
    torch.testing.assert_close(got, [y1.grad, y2.grad])
    # without the stop-gradient the gradients would differ
    y1.grad = y2.grad = None
    p1, p2 = head.predictor((y1, ))[0], head.predictor((y2, ))[0]
    (-(0.5 * F.cosine_similarity(p1, y2).mean()
       + 0.5 * F.cosine_similarity(p2, y1).mean())).backward()
    assert not torch.allclose(got[0], y1.grad)


def test_mocov3_loss_is_2tau_cross_entropy_over_the_batch_keys():
    tau = 0.2
    head = PredictorHead(_predictor(), InfoNCEHead(temperature=tau, loss_weight=2 * tau))
    z1, z2, k1, k2 = _views()
    with torch.no_grad():
        q1, q2 = (F.normalize(head.predictor((z, ))[0], dim=1) for z in (z1, z2))
    k1, k2 = F.normalize(k1, dim=1), F.normalize(k2, dim=1)

    def ctr(q, k):  # -log softmax of the positive among all keys of the batch
        total = 0.0
        for i in range(GLOBAL_BATCH):
            logits = [float(q[i] @ k[j]) / tau for j in range(GLOBAL_BATCH)]
            total -= logits[i] - math.log(sum(math.exp(x) for x in logits))
        return 2 * tau * total / GLOBAL_BATCH

    expected = ctr(q1, k2) + ctr(q2, k1)
    assert head.loss([z1, z2], [k1, k2]).item() == pytest.approx(expected, rel=1e-5)


def test_two_views_are_required_and_the_loss_name_is_checked():
    head = PredictorHead(_predictor(), CosineRegressionHead())
    z = _views()
    with pytest.raises(ValueError, match='two views'):
        head.loss(z[:3], z[:3])
    with pytest.raises(ValueError, match="got 'cosine'"):
        CosineRegressionHead('cosine')


def _mocov3_head_loss(predictor, views, tau=0.2):
    head = PredictorHead(predictor, InfoNCEHead(temperature=tau, loss_weight=2 * tau))
    z1, z2, k1, k2 = views
    return head.loss([z1, z2], [k1, k2])


def _ddp_mocov3(rank, world_size):
    n = GLOBAL_BATCH // world_size
    local = [v[rank * n:(rank + 1) * n] for v in _views()]
    predictor = DistributedDataParallel(_predictor())
    loss = _mocov3_head_loss(predictor, local)
    loss.backward()
    return dict(loss=loss.detach(), grads=[p.grad.clone() for p in predictor.parameters()])


def test_mocov3_negatives_span_the_global_batch_across_ranks():
    predictor = _predictor()
    loss = _mocov3_head_loss(predictor, _views())
    loss.backward()
    expected = [p.grad for p in predictor.parameters()]
    ranks = run_distributed(_ddp_mocov3, 2)
    # each rank: the mean over its queries against all 8 keys; together the global mean
    assert (ranks[0]['loss'] + ranks[1]['loss']).item() / 2 == pytest.approx(loss.item(),
                                                                             rel=1e-5)
    for rank in ranks:
        for got, want in zip(rank['grads'], expected):
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)
    # can fail: with only the 4 local keys as negatives the loss is lower
    local_only = _mocov3_head_loss(_predictor(), [v[:4] for v in _views()]).item()
    assert local_only < ranks[0]['loss'].item() - 1e-3
