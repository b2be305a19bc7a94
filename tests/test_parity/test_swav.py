"""SwAV: mmssl against mmpretrain's ``SwAV``, step by step, with each one's own hooks.

mmssl runs its ``MomentumUpdateHook`` (the training progress, from which the model starts
its queue and freezes its prototypes), mmpretrain its ``SwAVHook`` (both), real hooks called by
:class:`HookRunner`: one step of epoch 0 without a queue, then epoch 1, whose first two
steps fill the queues of 2 batches and the last two use them; the prototypes are frozen
for the first two steps.

Intended differences: a frozen prototype gets a gradient in mmssl that its hook drops
before the optimizer step (mmpretrain's hook sets ``requires_grad=False``: no gradient);
mmssl's queue is a ring buffer (the oldest batch overwritten in place), mmpretrain's
shifts its rows (newest first): the same rows in another order, to which Sinkhorn's sums
are blind; mmssl counts the queued rows to know the queue is full, mmpretrain tests its
last row for zeros.
"""
import torch
from mmpretrain.engine.hooks import SwAVHook
from torch import Tensor

from mmssl.engine.hooks import MomentumUpdateHook
from tests._two_view import tiny_resnet
from tests.test_parity._parity import (SWAV_IGNORE, SWAV_RULES, HookRunner, assert_same,
                                       assert_same_record, assert_same_state, build_pair, sgd,
                                       train_in_lockstep, view_loss)

BATCH, FEAT, PROTOTYPES, NUM_CROPS = 4, 8, 6, (2, 2)
QUEUE_LEN, QUEUE_START_EPOCH, FROZEN_ITERS = 2 * BATCH, 1, 2
EPOCHS = (0, 1, 1, 1, 1)  # the epoch of each step
LR = 0.1
MMSSL_PROTOTYPES, REFERENCE_PROTOTYPES = 'head.prototypes.weight', \
    'head.loss_module.prototypes.weight'


def build_swav_pair():
    """(mmssl's SwAV, mmpretrain's) on a width-8 ResNet-18: 8-d projections, 6 prototypes."""
    neck = dict(type='SwAVNeck', in_channels=64, hid_channels=32, out_channels=FEAT,
                norm_cfg=dict(type='BN1d'))
    sinkhorn = dict(temperature=0.1, epsilon=0.05, sinkhorn_iterations=3)
    mmssl_cfg = dict(type='SwAV', backbone=tiny_resnet(), neck=neck, num_crops=NUM_CROPS,
                     queue_length=QUEUE_LEN, queue_start_epoch=QUEUE_START_EPOCH,
                     freeze_prototypes_iters=FROZEN_ITERS,
                     head=dict(type='SwAVHead', feat_dim=FEAT, num_prototypes=PROTOTYPES,
                               **sinkhorn))
    reference_cfg = dict(type='SwAV', backbone=tiny_resnet(), neck=neck,
                         head=dict(type='SwAVHead', loss=dict(
                             type='SwAVLoss', feat_dim=FEAT, num_prototypes=PROTOTYPES,
                             num_crops=list(NUM_CROPS), crops_for_assign=[0, 1], **sinkhorn)))
    return build_pair(mmssl_cfg, reference_cfg, SWAV_RULES, SWAV_IGNORE)


def multi_crop_batches() -> list[list[Tensor]]:
    """Per step: 2 global views (BATCH, 3, 16, 16), then 2 local ones at 8 px."""
    gen = torch.Generator().manual_seed(0)
    return [[torch.randn(BATCH, 3, size, size, generator=gen) for size in (16, 16, 8, 8)]
            for _ in EPOCHS]


def newest_first(keys: Tensor, ptr: Tensor) -> Tensor:
    """A full ring-buffer queue (L, D), next write at ``ptr``, in mmpretrain's order:
    batch blocks from the newest to the oldest."""
    blocks = keys.split(BATCH)
    newest = int(ptr) // BATCH - 1
    return torch.cat([blocks[(newest - i) % len(blocks)] for i in range(len(blocks))])


def test_swav_trains_as_mmpretrain_step_by_step():
    """Losses, gradients, final weights and both queues equal to 1e-5 over 5 SGD steps.

    In lockstep (:func:`train_in_lockstep`): the reference's weights are copied into
    mmssl's before each step (the queues are not), as BN over 4-8 samples of 1-2 px maps
    amplifies float noise past 1e-5 in the gradients within 5 free-running steps.
    Aligned on purpose: the frozen prototypes' gradient, which mmssl computes and drops
    and mmpretrain does not compute, is left out of the two frozen steps' comparison
    (asserted present in mmssl only, then gone from the step).
    """
    model, reference = build_swav_pair()
    batches = multi_crop_batches()
    optimizer, reference_optimizer = sgd(model, LR), sgd(reference, LR)
    runner = HookRunner(model, [MomentumUpdateHook()], EPOCHS, optimizer)
    reference_runner = HookRunner(reference, [SwAVHook(
        batch_size=BATCH, epoch_queue_starts=QUEUE_START_EPOCH, crops_for_assign=[0, 1],
        feat_dim=FEAT, queue_length=QUEUE_LEN,
        frozen_layers_cfg=dict(prototypes=FROZEN_ITERS))], EPOCHS)
    prototypes_before = model.head.prototypes.weight.detach().clone()
    record, reference_record = train_in_lockstep(
        model, reference, batches, SWAV_RULES, SWAV_IGNORE,
        (runner.loss_fn(view_loss), reference_runner.loss_fn(view_loss)),
        (optimizer, reference_optimizer), (runner.after_step, reference_runner.after_step))

    for step in range(len(EPOCHS)):
        frozen = step < FROZEN_ITERS
        assert (REFERENCE_PROTOTYPES in reference_record.grads[step]) != frozen
        assert MMSSL_PROTOTYPES in record.grads[step]
        if frozen:
            del record.grads[step][MMSSL_PROTOTYPES]
    assert_same_record(record, reference_record, SWAV_RULES)
    assert_same_state(model, reference, SWAV_RULES, ignore=SWAV_IGNORE)
    assert not torch.allclose(model.head.prototypes.weight, prototypes_before)

    # Both queues full of the last two batches' global projections, used in the last steps.
    assert int(model.queue_filled) == QUEUE_LEN and reference.head.loss_module.use_queue
    assert_same([newest_first(queue.keys, queue.ptr) for queue in model.projection_queues],
                list(reference.head.loss_module.queue), 'queue')
