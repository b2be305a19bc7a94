"""MoCo v2: mmssl's ``MoCo`` (QueueKeys, bn_splits=1) against mmpretrain's ``MoCo``.

Intended differences: mmpretrain's ``momentum`` (mmssl's ``ema_momentum``) is 1 - m (0.001
for m = 0.999); its queue is (D, K), mmssl's (K, D) with a 0-d pointer; the EMA runs
inside mmpretrain's ``loss()`` before the keys, after the step in mmssl; the key encoder
keeps its own BN statistics (mmpretrain copies the online ones at every update). On one
process mmpretrain shuffles the key batch (a no-op for BN over the whole batch), mmssl
with ``bn_splits=1`` does not.
"""
import torch

from tests._two_view import tiny_resnet
from tests.test_parity._parity import (MOCO_IGNORE, MOCO_RULES, TARGET_NETWORKS, assert_same,
                                       assert_same_record, assert_same_weights_and_target,
                                       assert_target_statistics, build_pair,
                                       catch_up_reference_ema, momentum_hook, train_pair,
                                       two_view_batches)


REFERENCE_EMA = 'encoder_k'
MOMENTUM = 0.9  # far from 1, so the key encoder moves and a wrong update shows
QUEUE, DIM, BATCH = 32, 16, 8
STEPS, LR = 5, 0.1  # 5 batches of 8 wrap the queue of 32 once


def build_moco_pair():
    """(mmssl's MoCo, mmpretrain's) on a width-8 ResNet-18; mmssl's queue and pointer
    are the reference's random initial ones, its (D, K) keys transposed to (K, D)."""
    neck = dict(type='MoCoV2Neck', in_channels=64, hid_channels=32, out_channels=DIM,
                with_avg_pool=True)
    mmssl_cfg = dict(type='MoCo', backbone=tiny_resnet(), neck=neck,
                     head=dict(type='InfoNCEHead', temperature=0.2),
                     dictionary=dict(type='QueueKeys', queue_length=QUEUE, dim=DIM),
                     ema_momentum=MOMENTUM, bn_splits=1)
    reference_cfg = dict(type='MoCo', backbone=tiny_resnet(), neck=neck,
                         head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
                                   temperature=0.2),
                         queue_len=QUEUE, feat_dim=DIM, momentum=1 - MOMENTUM)
    model, reference = build_pair(mmssl_cfg, reference_cfg, MOCO_RULES, MOCO_IGNORE,
                                  REFERENCE_EMA)
    queue = model.dictionary.queue
    with torch.no_grad():
        queue.keys.copy_(reference.queue.t())
        queue.ptr.fill_(int(reference.queue_ptr[0]))
    return model, reference


def test_mocov2_trains_as_mmpretrain_step_by_step():
    """Losses, gradients, final weights, key encoder, queue and pointer equal to 1e-5
    over 5 SGD steps (the queue wraps once), each from the same online weights (the key
    encoders and queues evolve on their own), as for the other algorithms of this tiny
    BN network, whose trajectories amplify float32 rounding.

    Aligned on purpose: the reference makes after training the key-encoder update mmssl
    made after the last step; the key encoders' BN statistics differ as
    :func:`assert_target_statistics` states.
    """
    model, reference = build_moco_pair()
    batches = two_view_batches(STEPS, BATCH, size=32)
    record, reference_record = train_pair(
        model, reference, batches, LR, momentum_hook(model, STEPS),
        lockstep=(MOCO_RULES, MOCO_IGNORE + TARGET_NETWORKS))
    assert_same_record(record, reference_record, MOCO_RULES)
    assert_target_statistics(model, reference, REFERENCE_EMA, STEPS, 1)
    catch_up_reference_ema(reference, REFERENCE_EMA)
    assert_same_weights_and_target(model, reference, MOCO_RULES, MOCO_IGNORE)

    queue = model.dictionary.queue
    assert_same(queue.keys, reference.queue.t(), 'queue')
    assert int(queue.ptr) == int(reference.queue_ptr[0]) == STEPS * BATCH % QUEUE
