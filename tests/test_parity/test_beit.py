"""BEiT (v1, DALL-E targets): mmssl against mmpretrain's ``BEiT`` (``BEiTPretrainViT``,
``BEiTV1Head``, the ``DALL-E`` target generator), step by step.

Both tokenizers are mmpretrain's DALL-E encoder, a tiny random one (4 hidden channels, one
block per group, 8 tokens), mmssl's wrapped by ``DALLETokenizer``; its weights are copied
with the rest. The reference's ViT is ``BEiTPretrainViT`` set up as a plain ViT
(:func:`reference_plain_vit`), which mmssl's BEiT uses.

The same masks on both sides: mmssl draws each step's mask with its own
:func:`blockwise_mask` (recorded); mmpretrain takes masks from the data samples (its
``BEiTMaskGenerator`` transform makes them), so the reference gets mmssl's there.

Intended differences: the ViT (mmssl: a plain ViT with absolute position embedding;
mmpretrain's BEiT config: shared relative position bias, layer scale, q/v bias); the
tokenizer's view: mmssl makes it inside the model from the encoder's view (de-normalised,
bilinear resize to 8 px per patch, DALL-E's ``map_pixels``), mmpretrain reads a second
view that its pipeline crops and resizes (lanczos) and its ``TwoNormDataPreprocessor``
maps. Here the reference's second view is the same resize, normalised as that
preprocessor does with the config's second mean and std.
"""
import importlib

import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample
from torch import Tensor

from tests._mim import DIM, IMG, PATCH, tiny_vit
from tests.test_parity._parity import (BEIT_RULES, MIM_IGNORE, assert_same_record,
                                       assert_same_state, build_pair, record_calls,
                                       reference_plain_vit, sgd, train_steps)

VOCAB, NUM_MASKED, STEPS, LR = 8, 6, 3, 0.05
DALLE = dict(n_hid=4, n_blk_per_group=1)
MEAN = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
# mmpretrain's BEiT config: TwoNormDataPreprocessor's second mean and std, DALL-E's
# map_pixels of 0-255 pixels: 0.8 * x / 255 + 0.1.
SECOND_MEAN, SECOND_STD = -31.875, 318.75


def build_beit_pair(tmp_path):
    """(mmssl's BEiT, mmpretrain's): a 2-block ViT (4-px patches, 16 px), 6 of 16 patches
    masked in blocks of >= 2."""
    from mmssl.registry import MODELS
    checkpoint = str(tmp_path / 'dalle_encoder.pth')  # loaded by mmssl's init_weights
    torch.save(MODELS.build(dict(type='DALL-E', vocab_size=VOCAB, **DALLE)).state_dict(),
               checkpoint)
    vit = tiny_vit(mask_token=True)
    mmssl_cfg = dict(type='BEiT', backbone=vit, num_masked=NUM_MASKED, min_block=2,
                     head=dict(type='TokenPredictionHead', vocab_size=VOCAB, in_channels=DIM,
                               tokenizer=dict(type='DALLETokenizer', checkpoint=checkpoint,
                                              vocab_size=VOCAB, encoder=DALLE,
                                              patch_size=PATCH)))
    reference_cfg = dict(type='BEiT', backbone=reference_plain_vit(vit['arch'], IMG, PATCH),
                         neck=None,
                         head=dict(type='BEiTV1Head', embed_dims=DIM, num_embed=VOCAB,
                                   loss=dict(type='CrossEntropyLoss')),
                         target_generator=dict(type='DALL-E', vocab_size=VOCAB, **DALLE))
    return build_pair(mmssl_cfg, reference_cfg, BEIT_RULES, MIM_IGNORE)


def pixel_batches() -> list[Tensor]:
    """Per step: 8 images of 0-255 pixels (8, 3, IMG, IMG)."""
    gen = torch.Generator().manual_seed(0)
    return [torch.rand(8, 3, IMG, IMG, generator=gen) * 255 for _ in range(STEPS)]


def reference_inputs(pixels: Tensor, mask: Tensor) -> tuple[list[Tensor], list]:
    """mmpretrain's inputs: [the normalised view, the tokenizer's view], and data samples
    carrying the mask (h, w)."""
    grid = (IMG // PATCH, IMG // PATCH)
    tokenizer_view = F.interpolate(pixels, size=(8 * grid[0], 8 * grid[1]), mode='bilinear',
                                   align_corners=False)
    samples = [DataSample() for _ in range(pixels.shape[0])]
    for sample, image_mask in zip(samples, mask):
        sample.mask = image_mask.view(grid)
    return [(pixels - MEAN) / STD, (tokenizer_view - SECOND_MEAN) / SECOND_STD], samples


def test_beit_trains_as_mmpretrain_step_by_step(monkeypatch, tmp_path):
    """Losses, gradients and final weights equal to 1e-5 over 3 SGD steps, each step on a
    new batch and a new mask; the two tokenizers give the same token ids."""
    model, reference = build_beit_pair(tmp_path)
    masks = record_calls(monkeypatch, importlib.import_module('mmssl.models.algorithms.beit'),
                         'blockwise_mask')
    pixels = pixel_batches()
    record = train_steps(model, [(p - MEAN) / STD for p in pixels],
                         lambda m, x: m.loss([x])['loss'], sgd(model, LR))
    assert len(masks) == STEPS and all(int(m.sum()) == 8 * NUM_MASKED for m in masks)
    batches = [reference_inputs(p, mask) for p, mask in zip(pixels, masks)]
    with torch.no_grad():
        ids = model.head.tokenizer(batches[0][0][0])
        reference_ids = reference.target_generator(batches[0][0][1]).argmax(1).flatten(1)
    assert torch.equal(ids, reference_ids) and len(ids.unique()) > 1
    reference_record = train_steps(reference, batches, lambda m, batch: m.loss(*batch)['loss'],
                                   sgd(reference, LR))
    assert_same_record(record, reference_record, BEIT_RULES)
    assert_same_state(model, reference, BEIT_RULES, ignore=MIM_IGNORE)
