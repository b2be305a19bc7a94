"""SimMIM: mmssl against mmpretrain's ``SimMIM`` (``SimMIMLinearDecoder``, ``SimMIMHead``
with its L1 ``PixelReconstructionLoss``), step by step.

mmpretrain's SimMIM ships a Swin backbone only. Its ViT here is mmpretrain's
``BEiTPretrainViT`` as a plain ViT (:func:`reference_plain_vit`: the mask token replaces
the masked patch embeddings before the position embedding, as SimMIM's ViT does), whose
patch tokens :class:`FeatureMapViT` hands to the decoder as a map, as
``SimMIMSwinTransformer`` does.

The same masks on both sides: mmssl draws each step's mask with its own
:func:`block_grid_mask` (recorded); mmpretrain takes masks from the data samples (its
``SimMIMMaskGenerator`` transform makes them), so the reference gets mmssl's there.

Intended difference: mmssl makes the mask in the model, on the device; mmpretrain in the
data pipeline.
"""
import importlib

import torch
from mmengine.registry import DefaultScope
from mmpretrain.models.selfsup.beit import BEiTPretrainViT
from mmpretrain.registry import MODELS as REFERENCE_MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from tests._mim import DIM, IMG, PATCH, images, tiny_vit
from tests.test_parity._parity import (MIM_IGNORE, SIMMIM_RULES, assert_same_record,
                                       assert_same_state, build_pair, record_calls,
                                       reference_plain_vit, sgd, train_steps)

STEPS, LR = 3, 0.05


class FeatureMapViT(BEiTPretrainViT):
    """``BEiTPretrainViT`` whose masked forward returns the patch tokens as a map,
    ``((N, C, h, w),)``, the input of SimMIM's linear decoder."""

    def forward(self, x: Tensor, mask: Tensor):
        out = super().forward(x, mask)
        if mask is None:
            return out
        tokens = out[-1][:, 1:]  # without the class token
        return (tokens.transpose(1, 2).reshape(x.shape[0], -1, *self.patch_resolution), )


def build_simmim_pair():
    """(mmssl's SimMIM, mmpretrain's): a 2-block ViT (4-px patches, 16 px), 8-px mask
    blocks, half of them masked."""
    vit = tiny_vit(mask_token=True)
    neck = dict(type='SimMIMLinearDecoder', in_channels=DIM, encoder_stride=PATCH)
    mmssl_cfg = dict(type='SimMIM', backbone=vit, mask_patch_size=8, mask_ratio=0.5,
                     neck=neck, head=dict(type='PixelReconstructionHead', patch_size=PATCH,
                                          loss='l1'))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        reference_vit = REFERENCE_MODELS.build(dict(
            reference_plain_vit(vit['arch'], IMG, PATCH), type=FeatureMapViT))
    reference_cfg = dict(type='SimMIM', backbone=reference_vit, neck=neck,
                         head=dict(type='SimMIMHead', patch_size=PATCH, loss=dict(
                             type='PixelReconstructionLoss', criterion='L1', channel=3)))
    return build_pair(mmssl_cfg, reference_cfg, SIMMIM_RULES, MIM_IGNORE)


def with_masks(batches: list[Tensor], masks: list[Tensor], grid: tuple[int, int]) -> list:
    """(images, data samples carrying the mask (h, w)) per step, as mmpretrain's pipeline
    packs them."""
    steps = []
    for x, mask in zip(batches, masks):
        samples = [DataSample() for _ in range(x.shape[0])]
        for sample, image_mask in zip(samples, mask):
            sample.mask = image_mask.view(grid)
        steps.append((x, samples))
    return steps


def test_simmim_trains_as_mmpretrain_step_by_step(monkeypatch):
    """Losses, gradients and final weights equal to 1e-5 over 3 SGD steps, each step on a
    new batch and a new mask."""
    model, reference = build_simmim_pair()
    masks = record_calls(monkeypatch,
                         importlib.import_module('mmssl.models.algorithms.simmim'),
                         'block_grid_mask')
    batches = [images(8, seed=step) for step in range(STEPS)]
    record = train_steps(model, batches, lambda m, x: m.loss([x])['loss'], sgd(model, LR))
    assert len(masks) == STEPS and all(int(m.sum()) == 8 * 8 for m in masks)
    reference_record = train_steps(
        reference, with_masks(batches, masks, model.backbone.patch_resolution),
        lambda m, batch: m.loss(*batch)['loss'], sgd(reference, LR))
    assert_same_record(record, reference_record, SIMMIM_RULES)
    assert_same_state(model, reference, SIMMIM_RULES, ignore=MIM_IGNORE)
    assert not torch.equal(masks[0], masks[1])
