"""BYOL: mmssl against mmpretrain's ``BYOL``, step by step.

Intended differences: the loss is the paper's ``2 - 2 cos`` per view order (mmpretrain's
config reports ``-2 cos`` per order: 4 less); the cosine momentum schedule is counted
from the finished iteration (mmpretrain: one step later); the target keeps its own BN
statistics (mmpretrain copies the online ones at every update).
"""

from tests._two_view import mlp, tiny_resnet
from tests.test_parity._parity import (BYOL_IGNORE, BYOL_RULES, TARGET_NETWORKS, StepRecord,
                                       assert_momentum_counter_offset, assert_same_record,
                                       assert_same_weights_and_target,
                                       assert_target_statistics, build_pair,
                                       catch_up_reference_ema, momentum_hook,
                                       reference_max_iters, train_pair, two_view_batches)


REFERENCE_EMA = 'target_net'
BASE_MOMENTUM = 0.9  # far from 1, so the target moves and a wrong schedule shows
STEPS, MAX_ITERS, LR = 4, 6, 0.1


def build_byol_pair():
    """(mmssl's BYOL, mmpretrain's) on a width-8 ResNet-18, 16-d projections."""
    neck = mlp(64, 32, 16, with_avg_pool=True, with_bias=True, with_last_bn=False,
               with_last_bias=True)
    predictor = mlp(16, 32, 16, with_bias=True, with_last_bn=False, with_last_bias=True)
    mmssl_cfg = dict(type='BYOL', backbone=tiny_resnet(), neck=neck,
                     head=dict(type='PredictorHead', predictor=predictor,
                               loss=dict(type='CosineRegressionHead', loss='normalized_l2')),
                     ema_momentum=BASE_MOMENTUM)
    reference_cfg = dict(type='BYOL', backbone=tiny_resnet(), neck=neck,
                         head=dict(type='LatentPredictHead', predictor=predictor,
                                   loss=dict(type='CosineSimilarityLoss')),
                         base_momentum=1 - BASE_MOMENTUM)  # mmpretrain's momentum is 1 - m
    return build_pair(mmssl_cfg, reference_cfg, BYOL_RULES, BYOL_IGNORE, REFERENCE_EMA)


def test_byol_trains_as_mmpretrain_step_by_step():
    """Losses, gradients, final weights and target equal to 1e-5 over 4 SGD steps, each
    from the same online weights (the targets evolve on their own): the trajectory of
    this tiny BN network amplifies float32 rounding past 1e-5 within 4 steps.

    Aligned on purpose: mmssl's loss is 4 more at every step (the reference's
    CosineSimilarityLoss drops the constant of ``2 - 2 cos``, twice); mmssl's momentum
    counter is shifted by one to mmpretrain's (see test_the_momentum_schedule_...); the
    reference makes after training the target update mmssl made after the last step; the
    targets' BN statistics differ as :func:`assert_target_statistics` states.
    """
    model, reference = build_byol_pair()
    batches = two_view_batches(STEPS, batch=8, size=32)
    with reference_max_iters(MAX_ITERS):
        record, reference_record = train_pair(
            model, reference, batches, LR, momentum_hook(model, MAX_ITERS, offset=1),
            lockstep=(BYOL_RULES, BYOL_IGNORE + TARGET_NETWORKS))
        assert_target_statistics(model, reference, REFERENCE_EMA, STEPS, 2)
        catch_up_reference_ema(reference, REFERENCE_EMA)
    shifted = StepRecord([loss + 4 for loss in reference_record.losses],
                         reference_record.grads)
    assert_same_record(record, shifted, BYOL_RULES)
    assert_same_weights_and_target(model, reference, BYOL_RULES, BYOL_IGNORE)


def test_the_momentum_schedule_is_counted_from_the_finished_iteration():
    """mmssl's hook uses m(it) after iteration ``it``; mmpretrain m(it + 1). Driven
    exactly as the hook does, mmssl matches the reference at step 0 (no average yet) and
    differs from step 1, the first step whose target was averaged."""
    model, reference = build_byol_pair()
    with reference_max_iters(MAX_ITERS):
        assert_momentum_counter_offset(model, getattr(reference, REFERENCE_EMA), MAX_ITERS)
        record, reference_record = train_pair(
            model, reference, two_view_batches(2, batch=8, size=32), LR,
            momentum_hook(model, MAX_ITERS),
            lockstep=(BYOL_RULES, BYOL_IGNORE + TARGET_NETWORKS))
    loss_gaps = [float(a - b - 4) for a, b in zip(record.losses, reference_record.losses)]
    assert abs(loss_gaps[0]) < 1e-5 and abs(loss_gaps[1]) > 1e-4, loss_gaps
