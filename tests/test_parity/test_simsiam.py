"""SimSiam: mmssl's ``SimSiam`` (PredictorHead, negative cosine, weight 1/2) against
mmpretrain's ``SimSiam``. Intended differences: none."""

from tests._two_view import mlp, tiny_resnet
from tests.test_parity._parity import (SIMSIAM_IGNORE, SIMSIAM_RULES, assert_same_record,
                                       assert_same_state, build_pair, train_pair,
                                       two_view_batches)

STEPS, LR = 4, 0.1


def build_simsiam_pair():
    """(mmssl's SimSiam, mmpretrain's) on a width-8 ResNet-18: a 3-layer 16-d projector
    (last BN without affine) and an 8-d bottleneck predictor, as the paper's recipe."""
    neck = mlp(64, 32, 16, num_layers=3, with_avg_pool=True, with_last_bn_affine=False)
    predictor = mlp(16, 8, 16, with_last_bn=False, with_last_bias=True)
    mmssl_cfg = dict(type='SimSiam', backbone=tiny_resnet(), neck=neck,
                     head=dict(type='PredictorHead', predictor=predictor,
                               loss=dict(type='CosineRegressionHead', loss='negative_cosine',
                                         loss_weight=0.5)))
    reference_cfg = dict(type='SimSiam', backbone=tiny_resnet(), neck=neck,
                         head=dict(type='LatentPredictHead', predictor=predictor,
                                   loss=dict(type='CosineSimilarityLoss')))
    return build_pair(mmssl_cfg, reference_cfg, SIMSIAM_RULES, SIMSIAM_IGNORE)


def test_simsiam_trains_as_mmpretrain_step_by_step():
    """Losses, gradients and final weights (BN statistics included) equal to 1e-5 over
    4 SGD steps, each step from identical weights: the trajectory of this tiny BN network
    amplifies float32 rounding past 1e-5 within 4 steps (7e-5 at step 4)."""
    model, reference = build_simsiam_pair()
    batches = two_view_batches(STEPS, batch=8, size=32)
    record, reference_record = train_pair(model, reference, batches, LR,
                                          lockstep=(SIMSIAM_RULES, SIMSIAM_IGNORE))
    assert_same_record(record, reference_record, SIMSIAM_RULES)
    assert_same_state(model, reference, SIMSIAM_RULES, ignore=SIMSIAM_IGNORE)
