"""MoCo v3: mmssl's ``MoCoV3`` against mmpretrain's ``MoCoV3``, on a ResNet and on
mmpretrain's ``MoCoV3ViT``.

Intended differences: mmpretrain's ``base_momentum`` is 1 - m; the cosine momentum
schedule is counted from the finished iteration (mmpretrain, as the official code: one
step later); the momentum encoder keeps its own BN statistics (mmpretrain copies the
online ones at every update).
"""
import pytest
import torch

from tests._two_view import mlp, tiny_resnet, tiny_vit
from tests.test_parity._parity import (MOCOV3_IGNORE, MOCOV3_RULES, TARGET_NETWORKS,
                                       assert_momentum_counter_offset, assert_same_record,
                                       assert_same_weights_and_target,
                                       assert_target_statistics, build_pair,
                                       catch_up_reference_ema, copy_weights, momentum_hook,
                                       reference_max_iters, train_pair, two_view_batches)


REFERENCE_EMA = 'momentum_encoder'
BASE_MOMENTUM = 0.9  # far from 1, so the target moves and a wrong schedule shows
STEPS, MAX_ITERS, LR, TAU = 4, 6, 0.1, 0.2


def build_mocov3_pair(backbone: str = 'resnet'):
    """(mmssl's MoCoV3, mmpretrain's): a width-8 ResNet-18 with a 2-layer projector
    or a 2-block ViT with a 3-layer one; 32-px views, 16-d keys."""
    if backbone == 'resnet':
        parts = dict(backbone=tiny_resnet(),
                     neck=mlp(64, 32, 16, with_avg_pool=True, with_last_bn_affine=False))
    else:
        parts = dict(backbone=tiny_vit(),
                     neck=mlp(32, 32, 16, num_layers=3, with_last_bn_affine=False))
    predictor = mlp(16, 32, 16, with_last_bn=False)
    mmssl_cfg = dict(type='MoCoV3', **parts, ema_momentum=BASE_MOMENTUM,
                     head=dict(type='PredictorHead', predictor=predictor,
                               loss=dict(type='InfoNCEHead', temperature=TAU,
                                         loss_weight=2 * TAU)))
    reference_cfg = dict(type='MoCoV3', **parts, base_momentum=1 - BASE_MOMENTUM,
                         head=dict(type='MoCoV3Head', predictor=predictor, temperature=TAU,
                                   loss=dict(type='CrossEntropyLoss', loss_weight=2 * TAU)))
    model, reference = build_pair(mmssl_cfg, reference_cfg, MOCOV3_RULES, MOCOV3_IGNORE,
                                  REFERENCE_EMA)
    if backbone == 'vit':
        # MoCoV3ViT starts its class token at std 1e-6, where the first LayerNorm's
        # gradient is ~1e3 and amplifies float32 rounding: a std-0.02 token (the usual ViT
        # init) keeps the comparison well conditioned.
        with torch.no_grad():
            reference.backbone.cls_token.normal_(std=0.02)
            getattr(reference, REFERENCE_EMA).module[0].cls_token.copy_(
                reference.backbone.cls_token)
        copy_weights(reference, model, MOCOV3_RULES, MOCOV3_IGNORE)
    return model, reference


@pytest.mark.parametrize('backbone', ['resnet', 'vit'])
def test_mocov3_trains_as_mmpretrain_step_by_step(backbone):
    """Losses, gradients, final weights and momentum encoder equal to 1e-5 over 4 SGD
    steps, each from the same online weights (the momentum encoders evolve on their own):
    the trajectories of these tiny networks amplify float32 rounding past 1e-5 within 3
    steps (1e-4; how far depends on the thread count).

    Aligned on purpose: mmssl's momentum counter is shifted by one to mmpretrain's (see
    test_the_momentum_schedule_...); the reference makes after training the update mmssl
    made after the last step; the encoders' BN statistics differ as
    :func:`assert_target_statistics` states.
    """
    model, reference = build_mocov3_pair(backbone)
    batches = two_view_batches(STEPS, batch=8, size=32)
    with reference_max_iters(MAX_ITERS):
        record, reference_record = train_pair(
            model, reference, batches, LR, momentum_hook(model, MAX_ITERS, offset=1),
            lockstep=(MOCOV3_RULES, MOCOV3_IGNORE + TARGET_NETWORKS))
        assert_target_statistics(model, reference, REFERENCE_EMA, STEPS, 2)
        catch_up_reference_ema(reference, REFERENCE_EMA)
    assert_same_record(record, reference_record, MOCOV3_RULES)
    assert_same_weights_and_target(model, reference, MOCOV3_RULES, MOCOV3_IGNORE)


def test_the_momentum_schedule_is_counted_from_the_finished_iteration():
    """mmssl's hook uses m(it) after iteration ``it``; mmpretrain m(it + 1)."""
    model, reference = build_mocov3_pair()
    with reference_max_iters(MAX_ITERS):
        assert_momentum_counter_offset(model, getattr(reference, REFERENCE_EMA), MAX_ITERS)
