"""SimCLR: mmssl's ``SimCLR`` (NT-Xent head) against mmpretrain's ``SimCLR``.

Intended differences: none on one process. mmssl runs the two views as [view 1 batch;
view 2 batch], mmpretrain interleaves them image by image (BN sees the same 2N samples
either way), and it normalises with ``z / (|z| + 1e-10)`` instead of ``F.normalize``.
"""

from tests._two_view import mlp, tiny_resnet
from tests.test_parity._parity import (SIMCLR_IGNORE, SIMCLR_RULES, assert_same_record,
                                       assert_same_state, build_pair, scaled_gradients,
                                       train_pair, two_view_batches)

STEPS, LR = 4, 0.05
TAU = 0.5  # the paper's value for small batches; 0.1 makes gradients 5x larger


def build_simclr_pair():
    """(mmssl's SimCLR, mmpretrain's) on a width-8 ResNet-18, 16-d projections."""
    neck = mlp(64, 32, 16, with_avg_pool=True)
    mmssl_cfg = dict(type='SimCLR', backbone=tiny_resnet(), neck=neck,
                     head=dict(type='NTXentHead', temperature=TAU))
    reference_cfg = dict(type='SimCLR', backbone=tiny_resnet(), neck=neck,
                         head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
                                   temperature=TAU))
    return build_pair(mmssl_cfg, reference_cfg, SIMCLR_RULES, SIMCLR_IGNORE)


def test_simclr_trains_as_mmpretrain_step_by_step():
    """Losses, gradients and final weights (BN statistics included) equal to 1e-5 over
    4 SGD steps, each step from identical weights: the trajectory of this tiny BN network
    amplifies float32 rounding (the two views' different batch order) past 1e-5 within
    4 steps (4e-4 at step 4). The backbone's gradients reach 2, where the rounding of
    the different batch order alone is ~5e-6: they are compared relative to each
    tensor's largest entry (:func:`scaled_gradients`)."""
    model, reference = build_simclr_pair()
    batches = two_view_batches(STEPS, batch=8, size=32)
    record, reference_record = train_pair(model, reference, batches, LR,
                                          lockstep=(SIMCLR_RULES, SIMCLR_IGNORE))
    assert_same_record(scaled_gradients(record, reference_record),
                       scaled_gradients(reference_record, reference_record),
                       SIMCLR_RULES)
    assert_same_state(model, reference, SIMCLR_RULES, ignore=SIMCLR_IGNORE)
