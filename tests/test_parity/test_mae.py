"""MAE: mmssl against mmpretrain's ``MAE`` (``MAEViT``, ``MAEPretrainDecoder``,
``MAEPretrainHead``), step by step.

The same masks on both sides: mmssl draws each step's mask with its own
:func:`random_mask` (recorded); the reference's ``MAEViT.random_masking`` runs its own
code on noise made from that mask (the mask plus uniform noise in [0, 0.5)), whose
argsort keeps exactly mmssl's kept patches, in a random order.

Intended difference: the order of the kept tokens in the encoder, ascending in mmssl
(``kept_first_order``), random in mmpretrain (its noise order), left as it is here:
attention does not see the order and the decoder puts the tokens back in place.
"""
import importlib

import torch
from torch import Tensor

from tests._mim import DIM, IMG, PATCH, images, tiny_decoder, tiny_vit
from tests.test_parity._parity import (MAE_RULES, MIM_IGNORE, assert_same_record,
                                       assert_same_state, build_pair, record_calls, sgd,
                                       train_steps)

MASK_RATIO, STEPS, LR = 0.75, 3, 0.05


def build_mae_pair():
    """(mmssl's MAE, mmpretrain's): a 2-block ViT (4-px patches, 16 px), a 1-block decoder."""
    vit = tiny_vit(sincos_pos_embed=True)
    head = dict(patch_size=PATCH, norm_pix=True)
    mmssl_cfg = dict(type='MAE', backbone=vit, neck=tiny_decoder(), mask_ratio=MASK_RATIO,
                     head=dict(type='PixelReconstructionHead', **head))
    reference_cfg = dict(
        type='MAE',
        backbone=dict(type='MAEViT', arch=vit['arch'], img_size=IMG, patch_size=PATCH,
                      mask_ratio=MASK_RATIO),
        neck=dict(tiny_decoder(), type='MAEPretrainDecoder'),
        head=dict(type='MAEPretrainHead', loss=dict(type='PixelReconstructionLoss',
                                                    criterion='L2'), **head))
    model, reference = build_pair(mmssl_cfg, reference_cfg, MAE_RULES, MIM_IGNORE)
    assert reference.backbone.embed_dims == DIM
    return model, reference


def given_masking(reference_vit, masks: list[Tensor], monkeypatch, kept_orders: list):
    """``MAEViT.random_masking`` on noise that makes it mask ``masks[0]``, ``masks[1]``...
    (N, L) bool, True = masked, in turn; the order of its kept tokens goes to
    ``kept_orders``."""
    original, taken = reference_vit.random_masking, iter(masks)
    order = torch.Generator().manual_seed(0)

    def random_masking(x: Tensor, mask_ratio: float = 0.75):
        mask = next(taken)
        noise = mask.float() + 0.5 * torch.rand(mask.shape, generator=order)
        with monkeypatch.context() as patch:
            patch.setattr(torch, 'rand', lambda *args, **kwargs: noise)
            x_masked, reference_mask, ids_restore = original(x, mask_ratio)
        assert torch.equal(reference_mask.bool(), mask)
        kept_orders.append(ids_restore.argsort(dim=1)[:, :int((~mask[0]).sum())])
        return x_masked, reference_mask, ids_restore
    return random_masking


def test_mae_trains_as_mmpretrain_step_by_step(monkeypatch):
    """Losses, gradients and final weights equal to 1e-5 over 3 SGD steps, each step on a
    new batch and a new mask, the reference's kept tokens in another order."""
    model, reference = build_mae_pair()
    masks = record_calls(monkeypatch, importlib.import_module('mmssl.models.algorithms.mae'),
                         'random_mask')
    batches = [images(8, seed=step) for step in range(STEPS)]
    record = train_steps(model, batches, lambda m, x: m.loss([x])['loss'], sgd(model, LR))
    assert len(masks) == STEPS and all(int(m.sum()) == 8 * 12 for m in masks)
    kept_orders = []
    monkeypatch.setattr(reference.backbone, 'random_masking',
                        given_masking(reference.backbone, masks, monkeypatch, kept_orders))
    reference_record = train_steps(reference, batches, lambda m, x: m.loss(x, None)['loss'],
                                   sgd(reference, LR))
    assert_same_record(record, reference_record, MAE_RULES)
    assert_same_state(model, reference, MAE_RULES, ignore=MIM_IGNORE)
    # mmssl's order is ascending; the reference's was not.
    assert not all(torch.equal(ids, ids.sort(dim=1).values) for ids in kept_orders)
