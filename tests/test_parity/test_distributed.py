"""Distributed parity: 2 gloo processes, each holding half of the global batch, against one
process holding all of it (MoCo, BYOL, SimSiam, Barlow Twins, SwAV, DINO).

One spawn trains every algorithm on both ranks (:func:`train_all`); the same function in
the test process, without a process group, is the reference. Every run starts from the
same weights (the builders seed the RNG), takes the same global batches (rank r holds rows
``r * n .. (r + 1) * n - 1``) and makes ``STEPS`` SGD steps, the ranks replacing each
gradient by its mean over the ranks before the step, as DDP's all-reduce does
(:class:`RankAveragingSGD`). The ranks' gradients are recorded before that averaging, so
the tests can say which reduction matches each loss's normalisation.
"""
import traceback
from typing import Callable, Optional, Sequence

import pytest
import torch
import torch.distributed as torch_dist
from torch import Tensor, nn

from mmssl.models.utils import TrainingProgress
from mmssl.utils.dist import get_world_size, is_distributed
from tests._dist import run_distributed
from tests._helpers import ema_step, image_views
from tests.test_models.test_algorithms.test_barlow_twins import build_barlow_twins
from tests.test_models.test_algorithms.test_byol import build_byol
from tests.test_models.test_algorithms.test_dino import build_dino
from tests.test_models.test_algorithms.test_moco import build_moco
from tests.test_models.test_algorithms.test_simsiam import build_simsiam
from tests.test_models.test_algorithms.test_swav import build_swav
from tests.test_parity._parity import assert_same, train_steps

WORLD_SIZE, GLOBAL_BATCH, STEPS, LR = 2, 8, 3, 0.05
MOCO_QUEUE = 16  # two global batches: the third step wraps the pointer around
SWAV_QUEUE = 16  # full after two steps: the third step's codes use it
# Smaller steps where gradients are large (Barlow Twins ~40; DINO ~3000 at its projection's
# bottleneck, which L2-normalises outputs of ~0.02 at initialisation).
BARLOW_TWINS_LR, DINO_LR = 0.005, 0.001

Result = dict[str, object]


class RankAveragingSGD(torch.optim.SGD):
    """SGD whose step first replaces each gradient by its mean over the ranks, as DDP's
    all-reduce does between backward and the step (nothing to do on one process)."""

    @torch.no_grad()
    def step(self, closure: Optional[Callable] = None):
        if is_distributed():
            for group in self.param_groups:
                for param in group['params']:
                    if param.grad is not None:
                        torch_dist.all_reduce(param.grad)
                        param.grad.div_(get_world_size())
        return super().step(closure)


def local_rows(views: Sequence[Tensor], rank: int, world_size: int) -> list[Tensor]:
    """This rank's rows of every view (N, ...) of the global batch: (N / world_size, ...)."""
    n = views[0].shape[0] // world_size
    return [view[rank * n:(rank + 1) * n] for view in views]


def multi_crop_views(seed: int) -> list[Tensor]:
    """Two global views (GLOBAL_BATCH, 3, 16, 16), then two local ones at 8 px."""
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(GLOBAL_BATCH, 3, size, size, generator=gen) for size in (16, 16, 8, 8)]


def bn_in_eval_mode(model: nn.Module) -> nn.Module:
    """Every BN layer of ``model`` normalises with its running statistics."""
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eval()
    return model


def _loss(model: nn.Module, views: list[Tensor]) -> Tensor:
    return model.loss(views)['loss']


def _train(model: nn.Module, rank: int, world_size: int, make_views: Callable[[int], list],
           momentum: bool = False, lr: float = LR) -> Result:
    """STEPS steps on this rank's rows of the batches ``make_views(step)``; with
    ``momentum``, the target's EMA after each step as ``MomentumUpdateHook`` does it.

    Returns the per-step losses and local gradients (before averaging) and the final
    state dict.
    """
    batches = [local_rows(make_views(step), rank, world_size) for step in range(STEPS)]
    optimizer = RankAveragingSGD([p for p in model.parameters() if p.requires_grad], lr=lr)
    after_step = (lambda step: ema_step(model, step, STEPS)) if momentum else None
    record = train_steps(model, batches, _loss, optimizer, after_step)
    return dict(losses=record.losses, grads=record.grads, state=model.state_dict())


def _two_views(step: int) -> list[Tensor]:
    return image_views(GLOBAL_BATCH, size=16, seed=step)


def train_moco(rank: int, world_size: int) -> Result:
    """MoCo (QueueKeys, ResNet-18), whole model in eval mode (Shuffling BN still permutes
    the key batch across ranks, but running statistics make each key independent of it)."""
    torch.manual_seed(0)
    model = build_moco(queue_length=MOCO_QUEUE, ema_momentum=0.9).eval()
    result = _train(model, rank, world_size, _two_views, momentum=True)
    queue = model.dictionary.queue
    # The ResNet-18's gradients and weights stay here: the queue and losses tell enough.
    return dict(losses=result['losses'], keys=queue.keys, ptr=queue.ptr)


def train_byol(rank: int, world_size: int) -> Result:
    """BYOL, whole model in eval mode (per-rank BN statistics would differ)."""
    torch.manual_seed(0)
    return _train(build_byol().eval(), rank, world_size, _two_views, momentum=True)


def train_simsiam(rank: int, world_size: int) -> Result:
    """SimSiam, whole model in eval mode (per-rank BN statistics would differ)."""
    torch.manual_seed(0)
    return _train(build_simsiam().eval(), rank, world_size, _two_views)


def train_barlow_twins(rank: int, world_size: int) -> Result:
    """Barlow Twins, whole model in eval mode: BN layers use running statistics; the
    head's own standardisation of the embeddings still uses the batch."""
    torch.manual_seed(0)
    model = build_barlow_twins().eval()
    return _train(model, rank, world_size, _two_views, lr=BARLOW_TWINS_LR)


def train_swav(rank: int, world_size: int) -> Result:
    """SwAV with 2 + 2 crops and a feature queue from epoch 0, in training mode (the
    queue runs only then) with its BN layers in eval mode. Records every call's codes."""
    model = bn_in_eval_mode(build_swav(queue_length=SWAV_QUEUE, queue_start_epoch=0))
    model.set_progress(TrainingProgress(0, STEPS))
    codes: list[Tensor] = []
    compute_codes = model.head.codes

    def recorded_codes(*args, **kwargs) -> Tensor:
        out = compute_codes(*args, **kwargs)
        codes.append(out.clone())
        return out

    model.head.codes = recorded_codes  # a spy: the real method computes them
    result = _train(model, rank, world_size, multi_crop_views)
    queues = model.projection_queues
    return dict(result, codes=codes, queues=[queue.keys for queue in queues],
                ptrs=[queue.ptr for queue in queues], queue_filled=model.queue_filled)


def train_dino(rank: int, world_size: int) -> Result:
    """DINO with a 2-block ViT (LayerNorm only, no batch statistics), training mode."""
    model = build_dino(num_crops=(2, 2))
    model.set_progress(TrainingProgress(0, STEPS))  # epoch 0: the warm-up's tau_t
    result = _train(model, rank, world_size, multi_crop_views, momentum=True, lr=DINO_LR)
    return dict(result, center=model.head.center)


TRAINERS: dict[str, Callable[[int, int], Result]] = dict(
    moco=train_moco, byol=train_byol, simsiam=train_simsiam, barlow_twins=train_barlow_twins,
    swav=train_swav, dino=train_dino)


def train_all(rank: int, world_size: int) -> dict[str, Result]:
    """Every algorithm of :data:`TRAINERS` on this rank; an algorithm that raises gives
    ``{'error': traceback}`` (the same on every rank: they run the same code)."""
    from mmssl.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    if is_distributed():
        torch.set_num_threads(1)  # two ranks share the cores
    results = {}
    for name, train in TRAINERS.items():
        try:
            results[name] = train(rank, world_size)
        except Exception:
            results[name] = dict(error=traceback.format_exc())
    return results


@pytest.fixture(scope='module')
def runs() -> dict[str, tuple[Result, list[Result]]]:
    """Per algorithm: (the one-process result, the results of the ranks by rank)."""
    single = train_all(0, 1)
    ranks = run_distributed(train_all, WORLD_SIZE)
    return {name: (single[name], [rank[name] for rank in ranks]) for name in TRAINERS}


def _results(runs: dict, name: str) -> tuple[Result, list[Result]]:
    single, ranks = runs[name]
    for result in [single] + ranks:
        if 'error' in result:
            pytest.fail(f'{name} failed:\n{result["error"]}', pytrace=False)
    return single, ranks


def _mean(tensors: Sequence[Tensor]) -> Tensor:
    return sum(tensors) / len(tensors)


def _rank_mean_grads(ranks: list[Result], step: int) -> dict[str, Tensor]:
    """The mean over the ranks of each gradient of ``step``: what DDP gives every rank."""
    return {key: _mean([rank['grads'][step][key] for rank in ranks])
            for key in ranks[0]['grads'][step]}


def _assert_same_scaled(actual, expected, what: str) -> None:
    """:func:`assert_same` in units of max(1, the largest expected magnitude): absolute
    where values are small, relative where a loss makes them large (fp32 rounding grows
    with them: Barlow Twins's sum over D x D terms, DINO's L2 normalisation).

    actual, expected: two tensors, or two dicts of tensors with the same keys.
    """
    if isinstance(expected, Tensor):
        actual, expected = {'': actual}, {'': expected}
    scale = max([1.0] + [value.abs().max().item() for value in expected.values()])
    assert_same({key: value / scale for key, value in actual.items()},
                {key: value / scale for key, value in expected.items()},
                f'{what} / max(1, largest {what})')


def _assert_batch_mean_losses_match(single: Result, ranks: list[Result],
                                    grads: bool = True) -> None:
    """For a loss averaged over the batch: the mean of the ranks' losses (equal halves)
    and of their gradients, (1/n) sum over a rank's n samples, averaged over the ranks,
    is (1/N) sum over the N samples: the one-process loss and gradient."""
    for step in range(STEPS):
        _assert_same_scaled(_mean([rank['losses'][step] for rank in ranks]),
                            single['losses'][step], 'loss')
        if grads:
            _assert_same_scaled(_rank_mean_grads(ranks, step), single['grads'][step],
                                'gradient')


def _assert_same_final_weights(single: Result, ranks: list[Result]) -> None:
    for rank in ranks:
        assert_same(rank['state'], single['state'], 'weights')


@pytest.mark.dist
def test_moco_queue_holds_the_global_keys_in_rank_order(runs):
    """Both ranks enqueue the keys of the whole batch, gathered in rank order, so after
    3 steps (SGD on averaged gradients, EMA of the key encoder after each) their queue
    and pointer equal the one-process ones, whose rows follow the batch order."""
    single, ranks = _results(runs, 'moco')
    _assert_batch_mean_losses_match(single, ranks, grads=False)  # the loss reads the queue
    for rank in ranks:
        assert_same(rank['keys'], single['keys'], 'queue')
        assert_same(rank['ptr'], single['ptr'], 'queue pointer')
    assert int(single['ptr']) == STEPS * GLOBAL_BATCH % MOCO_QUEUE
    # can fail: the last step's block (rows 0..7 after the wrap) tells the ranks' halves
    # apart, so a gather in another order would not match.
    last = single['keys'][:GLOBAL_BATCH]
    half = GLOBAL_BATCH // WORLD_SIZE
    assert (last[:half] - last[half:]).abs().max() > 1e-2


@pytest.mark.dist
def test_byol_gradient_mean_over_ranks_is_the_one_process_gradient(runs):
    """BYOL's loss is a mean over the batch (per view order): DDP's mean of the ranks'
    gradients is the one-process gradient; the weights after 3 steps (online and EMA
    target) agree."""
    single, ranks = _results(runs, 'byol')
    _assert_batch_mean_losses_match(single, ranks)
    _assert_same_final_weights(single, ranks)


@pytest.mark.dist
def test_simsiam_gradient_mean_over_ranks_is_the_one_process_gradient(runs):
    """SimSiam's loss is a mean over the batch: as BYOL (no target network)."""
    single, ranks = _results(runs, 'simsiam')
    _assert_batch_mean_losses_match(single, ranks)
    _assert_same_final_weights(single, ranks)


@pytest.mark.dist
def test_barlow_twins_uses_the_global_cross_correlation(runs):
    """``BarlowTwinsHead`` gathers both views' embeddings with ``gather_with_grad``, so
    every rank computes the one loss L of the global batch (C over all N samples). The
    gather's backward sums the gradients that the W ranks computed for this rank's
    embeddings: rank r holds W * dL/dθ through its own samples, and DDP's mean over the
    ranks, (1/W) * sum_r W * dL/dθ|_r, is dL/dθ, the one-process gradient."""
    single, ranks = _results(runs, 'barlow_twins')
    for step in range(STEPS):
        for rank in ranks:  # each rank's loss is the global one, not a half
            _assert_same_scaled(rank['losses'][step], single['losses'][step], 'loss')
        _assert_same_scaled(_rank_mean_grads(ranks, step), single['grads'][step], 'gradient')
    _assert_same_final_weights(single, ranks)
    # Intended difference: one rank's own gradient is not the one-process gradient (it
    # flows through that rank's samples only); only the mean over ranks is.
    for rank in ranks:
        worst = max((rank['grads'][0][key] - grad).abs().max().item()
                    for key, grad in single['grads'][0].items())
        assert worst > 1e-2


@pytest.mark.dist
def test_swav_queues_and_sinkhorn_codes_match_the_global_batch(runs):
    """Sinkhorn-Knopp all-reduces its sums over the samples, so each rank's codes are its
    rows of the one-process codes of the global batch, also at step 3, where the full
    queues (each rank scoring its half of the rows) join the equipartition. Both ranks
    enqueue the gathered projections: the queues, pointers and fill count equal the
    one-process ones. The loss is a mean over the batch: DDP's gradient mean matches."""
    single, ranks = _results(runs, 'swav')
    assert len(single['codes']) == STEPS * 2  # per step, one call per global view
    for call, codes in enumerate(single['codes']):
        assert_same(torch.cat([rank['codes'][call] for rank in ranks]), codes, 'codes')
    for rank in ranks:
        assert_same(rank['queues'], single['queues'], 'queue')
        assert_same(rank['ptrs'], single['ptrs'], 'queue pointer')
        assert_same(rank['queue_filled'], single['queue_filled'], 'queue fill')
    assert int(single['queue_filled']) == SWAV_QUEUE
    _assert_batch_mean_losses_match(single, ranks)
    _assert_same_final_weights(single, ranks)


@pytest.mark.dist
def test_dino_centre_follows_the_global_batch_mean(runs):
    """DINOHead all-reduces the teacher outputs' sum and divides by the global count, so
    after 3 steps both ranks' centre equals the one-process centre; the loss is a mean
    over the batch, so DDP's gradient mean matches and the student and teacher weights
    agree."""
    single, ranks = _results(runs, 'dino')
    for rank in ranks:
        assert_same(rank['center'], single['center'], 'centre')
    assert single['center'].abs().max() > 1e-3  # it moved from its zero start
    _assert_batch_mean_losses_match(single, ranks)
    _assert_same_final_weights(single, ranks)
