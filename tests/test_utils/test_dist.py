"""Two gloo processes on the CPU against one process holding the whole batch."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from mmssl.models.heads import NTXentHead
from mmssl.utils.dist import batch_shuffle_ddp, batch_unshuffle_ddp, concat_all_gather
from tests._dist import run_distributed

GLOBAL_BATCH, DIM = 8, 6


def _global_batch():
    gen = torch.Generator().manual_seed(0)
    return torch.randn(GLOBAL_BATCH, DIM, generator=gen), torch.randn(GLOBAL_BATCH, DIM,
                                                                      generator=gen)


def _model():
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(DIM, 16), nn.ReLU(), nn.Linear(16, 4))


def _simclr_loss(model, x_a, x_b, head):
    z = F.normalize(model(torch.cat([x_a, x_b])), dim=1)
    z_a, z_b = z.chunk(2)
    return head.loss(z_a, z_b)


def _reference_gather(x: torch.Tensor) -> torch.Tensor:
    """mmpretrain's SimCLR gather: its backward keeps only this rank's slice of the
    gradient, dropping the other ranks' terms (mmssl's intended difference)."""
    from mmpretrain.models.selfsup.simclr import GatherLayer
    return torch.cat(GatherLayer.apply(x))


def _ddp_grads(rank, world_size, mmpretrain_gather):
    import mmssl.models.heads.contrastive_heads as heads
    if mmpretrain_gather:
        heads.gather_with_grad = _reference_gather
    x_a, x_b = _global_batch()
    n = GLOBAL_BATCH // world_size
    local = slice(rank * n, (rank + 1) * n)
    model = DistributedDataParallel(_model())
    _simclr_loss(model, x_a[local], x_b[local], NTXentHead(0.5)).backward()
    return [p.grad.clone() for p in model.module.parameters()]


def test_gather_with_grad_matches_one_process_with_the_global_batch():
    x_a, x_b = _global_batch()
    model = _model()
    _simclr_loss(model, x_a, x_b, NTXentHead(0.5)).backward()
    expected = [p.grad for p in model.parameters()]

    for rank_grads in run_distributed(_ddp_grads, 2, False):
        for got, want in zip(rank_grads, expected):
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)

    # mmpretrain's gather, whose backward drops the other ranks' terms, is off: the
    # difference is the intended one, and the check can fail.
    reference = run_distributed(_ddp_grads, 2, True)[0]
    assert any(not torch.allclose(g, w, rtol=1e-3, atol=1e-5)
               for g, w in zip(reference, expected))


def _moco_queue_and_shuffle(rank, world_size):
    from mmssl.models import MoCo
    from mmssl.utils import register_all_modules
    register_all_modules()
    torch.manual_seed(0)  # same initial weights and queue on both ranks
    model = MoCo(
        backbone=dict(type='ResNet', depth=18, out_indices=(3,)),
        neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=16, out_channels=8),
        head=dict(type='InfoNCEHead', temperature=0.2), ema_momentum=0.999,
        dictionary=dict(type='QueueKeys', queue_length=16, dim=8))
    gen = torch.Generator().manual_seed(10 + rank)  # different images on each rank
    views = [torch.randn(2, 3, 16, 16, generator=gen) for _ in range(2)]
    model.loss(views)

    x = torch.arange(4.0).view(4, 1) + 100 * rank
    shuffled, idx_unshuffle = batch_shuffle_ddp(x)
    return dict(queue=model.dictionary.queue.keys.clone(), ptr=int(model.dictionary.queue.ptr),
                all_shuffled=concat_all_gather(shuffled).flatten(),
                unshuffled=batch_unshuffle_ddp(shuffled, idx_unshuffle), x=x)


@pytest.fixture(scope='module')
def moco_ranks():
    return run_distributed(_moco_queue_and_shuffle, 2)


def test_keys_enqueued_on_both_ranks_are_identical(moco_ranks):
    rank0, rank1 = moco_ranks
    assert torch.equal(rank0['queue'], rank1['queue'])
    assert rank0['ptr'] == rank1['ptr'] == 4  # 2 keys from each of the 2 ranks


def test_shuffle_bn_permutes_the_global_batch_and_unshuffles_exactly(moco_ranks):
    for rank in moco_ranks:
        assert torch.equal(rank['unshuffled'], rank['x'])
    everything = torch.cat([r['x'].flatten() for r in moco_ranks])
    shuffled = moco_ranks[0]['all_shuffled']
    assert torch.equal(shuffled.sort().values, everything.sort().values)
    assert torch.equal(shuffled, moco_ranks[1]['all_shuffled'])  # one permutation for all
