"""Barlow Twins: mmssl's ``BarlowTwins`` against mmpretrain's ``BarlowTwins``.

Intended differences: mmpretrain standardises the embeddings with a
``BatchNorm1d(affine=False)`` in its head, whose running statistics nothing reads (not
compared); mmssl with a pure function of the batch, to the same values. mmssl computes
the loss in float32 even for float64 embeddings (it is built for autocast).
"""

from tests._two_view import mlp, tiny_resnet
from tests.test_parity._parity import (BARLOW_TWINS_IGNORE, BARLOW_TWINS_RULES,
                                       assert_same_record, assert_same_state, build_pair,
                                       scaled_gradients, train_pair, two_view_batches)

STEPS, LR, DIM, LAMBD = 4, 0.01, 16, 0.0051


def build_barlow_twins_pair():
    """(mmssl's BarlowTwins, mmpretrain's) on a width-8 ResNet-18, a 3-layer 16-d
    projector without a last BN, as the paper's."""
    neck = mlp(64, 32, DIM, num_layers=3, with_avg_pool=True, with_last_bn=False)
    mmssl_cfg = dict(type='BarlowTwins', backbone=tiny_resnet(), neck=neck,
                     head=dict(type='BarlowTwinsHead', lambd=LAMBD))
    reference_cfg = dict(type='BarlowTwins', backbone=tiny_resnet(), neck=neck,
                         head=dict(type='LatentCrossCorrelationHead', in_channels=DIM,
                                   loss=dict(type='CrossCorrelationLoss', lambd=LAMBD)))
    return build_pair(mmssl_cfg, reference_cfg, BARLOW_TWINS_RULES, BARLOW_TWINS_IGNORE)


def test_barlow_twins_trains_as_mmpretrain_step_by_step():
    """Losses, gradients and final weights (BN statistics included) equal to 1e-5 over
    4 SGD steps, each step from identical weights (the trajectory amplifies float32
    rounding to 2e-3 by step 3). The loss sums D x D terms: gradients reach 30, so they
    are compared relative to each tensor's largest entry (:func:`scaled_gradients`)."""
    model, reference = build_barlow_twins_pair()
    batches = two_view_batches(STEPS, batch=8, size=32)
    record, reference_record = train_pair(model, reference, batches, LR,
                                          lockstep=(BARLOW_TWINS_RULES, BARLOW_TWINS_IGNORE))
    assert_same_record(scaled_gradients(record, reference_record),
                       scaled_gradients(reference_record, reference_record),
                       BARLOW_TWINS_RULES)
    assert_same_state(model, reference, BARLOW_TWINS_RULES, ignore=BARLOW_TWINS_IGNORE)
