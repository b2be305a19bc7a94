"""mmssl/models/utils/lasso.py: LassoCombination."""
import pytest
import torch
import torch.nn.functional as F

from mmssl.models.utils import LassoCombination


def feats(n=3):
    gen = torch.Generator().manual_seed(0)
    return [torch.randn(n, c, s, s, generator=gen) for c, s in ((4, 8), (6, 4), (8, 2))]


def test_output_is_the_alpha_weighted_sum_of_projected_blocks():
    torch.manual_seed(0)
    lasso = LassoCombination([4, 6, 8], out_channels=5, num_tasks=2)
    assert torch.equal(lasso.alpha, torch.full((2, 3), 1 / 3))
    with torch.no_grad():
        lasso.alpha.copy_(torch.tensor([[0.5, -1.0, 2.0], [0.0, 0.0, 1.0]]))
    blocks = feats()
    for task in range(2):
        expected = sum(lasso.alpha[task, i] * F.adaptive_avg_pool2d(p(f), 1).flatten(1)
                       for i, (p, f) in enumerate(zip(lasso.projections, blocks)))
        assert torch.allclose(lasso(blocks, task), expected, atol=1e-6)
    spatial = LassoCombination([4, 6, 8], out_channels=5, num_tasks=1, out_size=2)
    assert spatial(blocks, 0).shape == (3, 5, 2, 2)
    with pytest.raises(ValueError, match='expected 3 block outputs'):
        lasso(blocks[:2], 0)


def test_penalty_is_the_l1_norm_and_alpha_gets_gradients():
    lasso = LassoCombination([4, 6, 8], out_channels=5, num_tasks=2)
    with torch.no_grad():
        lasso.alpha.copy_(torch.tensor([[0.5, -1.0, 2.0], [0.25, 0.0, -3.0]]))
    assert lasso.penalty().item() == pytest.approx(6.75)
    lasso(feats(), 1).pow(2).sum().backward()
    grad = lasso.alpha.grad
    assert grad[1].abs().sum() > 0 and torch.equal(grad[0], torch.zeros(3))  # task 1 only


@pytest.mark.parametrize('l1_weight', [0.0, 1.0])
def test_a_large_l1_weight_shrinks_alpha_toward_zero(l1_weight):
    torch.manual_seed(0)
    lasso = LassoCombination([4, 6, 8], out_channels=5, num_tasks=1)
    target = torch.randn(3, 5)
    optimizer = torch.optim.SGD(lasso.parameters(), lr=0.05)
    blocks = feats()
    for _ in range(60):
        loss = F.mse_loss(lasso(blocks, 0), target) + l1_weight * lasso.penalty()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    size = lasso.alpha.abs().sum().item()
    if l1_weight:
        # from 1.0 to near 0: the penalty's pull wins; SGD's subgradient then hops around
        # 0 by up to lr = 0.05 per entry
        assert size < 0.2
    else:
        assert size > 0.5


def test_fixed_alpha_is_a_saved_buffer_that_training_leaves_alone():
    """learn_alpha=False, one block, alpha 1: the plain shared trunk (the paper's baseline)."""
    lasso = LassoCombination([8], out_channels=5, num_tasks=2, alpha_init=1.0,
                             learn_alpha=False)
    assert 'alpha' not in dict(lasso.named_parameters()) and 'alpha' in lasso.state_dict()
    block = feats()[2]
    optimizer = torch.optim.SGD(lasso.parameters(), lr=0.1)
    for task in range(2):
        out = lasso([block], task)
        expected = F.adaptive_avg_pool2d(lasso.projections[0](block), 1).flatten(1)
        assert torch.allclose(out, expected, atol=1e-6)
        (out.pow(2).sum() + lasso.penalty()).backward()
        optimizer.step()
    assert torch.equal(lasso.alpha, torch.ones(2, 1))
