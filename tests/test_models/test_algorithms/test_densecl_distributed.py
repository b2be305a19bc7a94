"""DenseCL on two gloo processes against one process holding the whole batch."""
import torch

from tests._dist import run_distributed
from tests._helpers import image_views

GLOBAL_BATCH = 4


def _densecl_losses(rank: int, world_size: int) -> dict:
    """This rank's losses and queues; BN in eval mode, so the split of the batch and
    the Shuffling-BN permutation cannot change any output."""
    from mmssl.utils import register_all_modules
    from tests.test_models.test_algorithms.test_densecl import build_densecl
    register_all_modules(init_default_scope=True)
    torch.manual_seed(0)  # same weights and initial queues on every rank
    model = build_densecl(queue_length=16).eval()
    n = GLOBAL_BATCH // world_size
    views = [view[rank * n:(rank + 1) * n] for view in image_views(GLOBAL_BATCH, size=24)]
    with torch.no_grad():
        losses = model.loss(views)
    return dict(losses, global_queue=model.global_keys.queue.keys,
                dense_queue=model.dense_keys.queue.keys, ptr=model.dense_keys.queue.ptr)


def test_two_ranks_match_one_process():
    single = _densecl_losses(0, 1)
    ranks = run_distributed(_densecl_losses, 2)
    for key in ('loss_global', 'loss_dense'):  # equal halves: the mean of the rank means
        mean = (ranks[0][key] + ranks[1][key]) / 2
        torch.testing.assert_close(mean, single[key], rtol=1e-5, atol=1e-6)
    for rank in ranks:  # every rank enqueues the keys of the whole batch, in rank order
        for key in ('global_queue', 'dense_queue'):
            torch.testing.assert_close(rank[key], single[key], rtol=1e-5, atol=1e-6)
        assert int(rank['ptr']) == GLOBAL_BATCH
