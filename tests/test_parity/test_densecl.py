"""DenseCL: mmssl against mmpretrain's ``DenseCL``, step by step, with each one's own hooks.

mmssl runs its ``MomentumUpdateHook`` (the training progress, from which the model warms
its dense loss up, and the EMA), mmpretrain its ``DenseCLHook``, real hooks called by
:class:`HookRunner`: the dense loss weight is 0 in the first iteration, 0.5 after. One
process, one BN group (mmssl ``bn_splits=1``; the reference shuffles the batch of its
single group, which BN does not see).

Intended differences: the EMA convention (mmssl's ``ema_momentum`` is the paper's m, the
weight of the target, mmpretrain's is 1 - m); the EMA timing (mmpretrain updates the
target inside ``loss()`` before computing the keys, mmssl after each optimizer step
through its hook: the keys of every step are the same, and after the last step mmssl's
target is one update ahead); the target's BN statistics (mmssl's are its own, mmpretrain
copies the online ones at each update); the loss names (``loss_global`` is mmpretrain's
``loss_single``).
"""
import torch
from mmpretrain.engine.hooks import DenseCLHook
from torch import Tensor, nn

from mmssl.engine.hooks import MomentumUpdateHook
from tests._two_view import tiny_resnet
from tests.test_parity._parity import (DENSECL_IGNORE, DENSECL_RULES, TARGET_STATISTICS,
                                       HookRunner, assert_same, assert_same_record,
                                       assert_same_state, assert_target_statistics,
                                       build_pair, catch_up_reference_ema,
                                       reference_momentum, sgd, train_steps,
                                       two_view_batches)

REFERENCE_EMA = 'encoder_k'
MOMENTUM = 0.75  # far from 1, so the target moves and a wrong EMA shows
FEAT, QUEUE_LEN, WARMUP_ITERS = 8, 16, 1
STEPS, LR = 4, 0.1


def build_densecl_pair():
    """(mmssl's DenseCL, mmpretrain's) on a width-8 ResNet-18: 3 x 3 maps at 24 px."""
    neck = dict(type='DenseCLNeck', in_channels=64, hid_channels=16, out_channels=FEAT,
                num_grid=None)
    common = dict(backbone=tiny_resnet(), neck=neck, feat_dim=FEAT, loss_lambda=0.5)
    mmssl_cfg = dict(type='DenseCL', head=dict(type='InfoNCEHead', temperature=0.2),
                     queue_length=QUEUE_LEN, ema_momentum=MOMENTUM, bn_splits=1,
                     dense_loss_start_iter=WARMUP_ITERS, **common)
    reference_cfg = dict(type='DenseCL', head=dict(type='ContrastiveHead', temperature=0.2,
                                                   loss=dict(type='CrossEntropyLoss')),
                         queue_len=QUEUE_LEN, momentum=1 - MOMENTUM,  # mmpretrain's is 1 - m
                         **common)
    model, reference = build_pair(mmssl_cfg, reference_cfg, DENSECL_RULES, DENSECL_IGNORE,
                                  REFERENCE_EMA)
    with torch.no_grad():  # the queues: (D, K) in mmpretrain, (K, D) in mmssl
        model.global_keys.queue.keys.copy_(reference.queue.t())
        model.dense_keys.queue.keys.copy_(reference.queue2.t())
    return model, reference


def total_loss(model: nn.Module, views) -> Tensor:
    """The sum of the global and the dense loss (named differently in the two; mmssl
    also logs its dense weight)."""
    losses = {key: value for key, value in model.loss(list(views), None).items()
              if key != 'dense_weight'}
    assert len(losses) == 2, sorted(losses)
    return sum(losses.values())


def queues(model: nn.Module, reference: nn.Module) -> tuple[dict, dict]:
    """(mmssl's, the reference's) queues (K, D) and write pointers."""
    return ({'global': model.global_keys.queue.keys, 'dense': model.dense_keys.queue.keys,
             'global_ptr': model.global_keys.queue.ptr.view(1),
             'dense_ptr': model.dense_keys.queue.ptr.view(1)},
            {'global': reference.queue.t(), 'dense': reference.queue2.t(),
             'global_ptr': reference.queue_ptr, 'dense_ptr': reference.queue2_ptr})


def test_densecl_trains_as_mmpretrain_step_by_step():
    """Losses, gradients, final weights, target and both queues equal to 1e-5 over 4 SGD
    steps, the dense loss warmed up by each framework's hook.

    Aligned on purpose: the reference makes after training the target update that mmssl
    made after the last step (before it, the targets differ); the targets' BN statistics
    differ as :func:`assert_target_statistics` states.
    """
    model, reference = build_densecl_pair()
    assert reference_momentum(getattr(reference, REFERENCE_EMA), 1) == MOMENTUM
    batches = two_view_batches(STEPS, batch=4, size=24)
    optimizer, reference_optimizer = sgd(model, LR), sgd(reference, LR)
    runner = HookRunner(model, [MomentumUpdateHook()], [0] * STEPS, optimizer)
    reference_runner = HookRunner(reference, [DenseCLHook(start_iters=WARMUP_ITERS)],
                                  [0] * STEPS)
    record = train_steps(model, batches, runner.loss_fn(total_loss), optimizer,
                         runner.after_step)
    reference_record = train_steps(reference, batches, reference_runner.loss_fn(total_loss),
                                   reference_optimizer, reference_runner.after_step)
    assert model.dense_loss_weight == reference.loss_lambda == 0.5

    assert_same_record(record, reference_record, DENSECL_RULES)
    assert_same(*queues(model, reference), 'queue')
    assert_target_statistics(model, reference, REFERENCE_EMA, STEPS, 1)
    reference_target = getattr(reference, REFERENCE_EMA).module[0]
    gap = max((param - reference_param).abs().max() for param, reference_param in
              zip(model.momentum_backbone.parameters(), reference_target.parameters()))
    assert gap > 1e-3  # mmssl's target is one update ahead
    catch_up_reference_ema(reference, REFERENCE_EMA)
    assert_same_state(model, reference, DENSECL_RULES,
                      ignore=DENSECL_IGNORE + TARGET_STATISTICS)
