import math

import pytest
import torch
import torch.nn.functional as F

from mmssl.models.heads import SwAVHead
from mmssl.models.losses import sinkhorn_knopp
from tests._dist import run_distributed


def test_prototypes_are_normalised_and_score_cosines():
    torch.manual_seed(0)
    head = SwAVHead(feat_dim=6, num_prototypes=4)
    head.normalize_prototypes()
    torch.testing.assert_close(head.prototypes.weight.norm(dim=1), torch.ones(4))
    z = F.normalize(torch.randn(3, 6), dim=1)
    weight = head.prototypes.weight.detach()
    expected = torch.tensor([[float(z[n] @ weight[k]) for k in range(4)]
                             for n in range(3)])
    torch.testing.assert_close(head(z), expected)


def test_queue_scores_join_the_equipartition_but_get_no_code():
    torch.manual_seed(0)
    head = SwAVHead(feat_dim=6, num_prototypes=4, epsilon=0.05, sinkhorn_iterations=3)
    head.normalize_prototypes()
    z, queue = F.normalize(torch.randn(3, 6), dim=1), F.normalize(torch.randn(8, 6), dim=1)
    codes = head.codes(head(z), queue)
    assert codes.shape == (3, 4)
    with torch.no_grad():
        expected = sinkhorn_knopp(torch.cat([head(queue), head(z)]), 3, 0.05)[8:]
    torch.testing.assert_close(codes, expected)
    assert not torch.allclose(codes, head.codes(head(z)))  # the queue changed the codes


def _codes_on_rank(rank, world_size, state, z, queue):
    head = SwAVHead(feat_dim=z.shape[1], num_prototypes=state['prototypes.weight'].shape[0])
    head.load_state_dict(state)
    rows = z.shape[0] // world_size
    with torch.no_grad():
        return head.codes(head(z[rank * rows:(rank + 1) * rows]), queue)


@pytest.mark.dist
def test_two_processes_sharing_the_queue_get_the_single_process_codes():
    """Each rank: its half of the batch, the whole (gathered, identical) queue."""
    torch.manual_seed(0)
    head = SwAVHead(feat_dim=6, num_prototypes=4)
    head.normalize_prototypes()
    z, queue = F.normalize(torch.randn(8, 6), dim=1), F.normalize(torch.randn(8, 6), dim=1)
    per_rank = run_distributed(_codes_on_rank, 2, head.state_dict(), z, queue)
    with torch.no_grad():
        torch.testing.assert_close(torch.cat(per_rank), head.codes(head(z), queue))


def test_swapped_prediction_loss_written_out():
    torch.manual_seed(0)
    head = SwAVHead(feat_dim=6, num_prototypes=4, temperature=0.1)
    scores = [torch.rand(2, 4) for _ in range(3)]
    codes = [torch.softmax(torch.randn(2, 4), dim=1) for _ in range(2)]
    expected = 0.0
    for i in range(2):  # each global view's codes, predicted by the other views
        for v in [v for v in range(3) if v != i]:
            for n in range(2):
                exps = [math.exp(s / 0.1) for s in scores[v][n].tolist()]
                expected -= sum(q * math.log(e / sum(exps))
                                for q, e in zip(codes[i][n].tolist(), exps)) / 2
    assert head.loss(scores, codes).item() == pytest.approx(expected / 4, rel=1e-5)
