"""Parity of MoCo's memory-bank mechanism (``MemoryBankKeys``, NPID) with the memory bank
of NPID's code (zhirongw/lemniscate.pytorch), written out below in plain torch.

The reference follows ``NCEAverage``: the positive of image y's feature is the bank row
``memory[y]`` (column 0 of ``idx``), the K negatives are rows drawn uniformly at random,
the logits are ``row . feature / T``; after the step (``NCEFunction.backward``) the rows
of the batch take ``normalise(m * memory[y] + (1 - m) * feature)``, m = 0.5. The loss on
these logits is the InfoNCE (softmax cross-entropy with the positive at 0) of the MoCo
paper's memory-bank mechanism, not NPID's NCE with its normalising constant Z (mmssl's
choice). The draws match because both sides draw ``torch.randint(N, (B, K))`` from the
same seed (lemniscate's ``AliasMethod`` over uniform weights draws the same distribution,
not the same numbers). The bank starts from mmssl's (random unit rows; lemniscate's rows
start uniform in [-1/sqrt(D/3), 1/sqrt(D/3)], not unit).
"""
import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from mmssl.registry import MODELS
from tests._helpers import image_views
from tests._two_view import PLAIN_PREPROCESSOR, tiny_resnet
from tests.test_parity._parity import (assert_same, assert_same_record, assert_same_state,
                                       copy_weights, train_steps)


SIZE, BATCH, NEGATIVES, DIM, TEMPERATURE, PROXIMAL_WEIGHT = 14, 4, 8, 16, 0.07, 0.5
NECK = dict(type='MoCoV2Neck', in_channels=64, hid_channels=32, out_channels=DIM,
            with_avg_pool=True)
# Image indices per step: steps 3 and 4 revisit rows that earlier steps updated; rows 12
# and 13 are only ever drawn as negatives.
STEP_INDICES = [[0, 1, 2, 3], [4, 5, 6, 7], [0, 2, 8, 9], [1, 4, 10, 11]]
MMSSL_TO_REF = [(r'dictionary\.bank\.feats$', 'memory')]
NOT_IN_REFERENCE = [r'data_preprocessor\.']


class Step(NamedTuple):
    views: list[Tensor]  # 2 views (BATCH, 3, 16, 16); the memory bank uses the first
    indices: Tensor  # (BATCH,) dataset indices
    seed: int  # torch's seed for the step's negative draws


class NPIDReference(nn.Module):
    """lemniscate.pytorch's memory bank around a copy of the encoder (backbone + neck)."""

    def __init__(self, backbone: nn.Module, neck: nn.Module, output_size: int,
                 input_size: int, nce_k: int, nce_t: float, nce_m: float) -> None:
        super().__init__()
        self.backbone, self.neck = backbone, neck
        self.nce_k, self.nce_t, self.nce_m = nce_k, nce_t, nce_m
        stdv = 1. / math.sqrt(input_size / 3)  # NCEAverage's (unnormalised) initial bank
        self.register_buffer('memory',
                             torch.rand(output_size, input_size).mul_(2 * stdv).add_(-stdv))

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """x: (B, C, H, W) images of dataset indices y (B,) -> the loss; updates the bank."""
        feature = F.normalize(self.neck(self.backbone(x))[0], dim=1)  # Normalize(2)
        batch_size, dim = feature.shape
        # NCEAverage.forward: idx (B, K + 1) uniform rows, column 0 the positive y.
        idx = torch.randint(self.memory.shape[0], (batch_size, self.nce_k))
        idx = torch.cat([y.view(-1, 1), idx], dim=1)
        weight = torch.index_select(self.memory, 0, idx.view(-1)).view(
            batch_size, self.nce_k + 1, dim)
        out = torch.bmm(weight, feature.view(batch_size, dim, 1)).squeeze(2) / self.nce_t
        loss = F.cross_entropy(out, torch.zeros(batch_size, dtype=torch.long))
        with torch.no_grad():  # NCEFunction.backward: update the non-parametric data
            weight_pos = torch.index_select(self.memory, 0, y.view(-1))
            weight_pos.mul_(self.nce_m)
            weight_pos.add_(torch.mul(feature.detach(), 1 - self.nce_m))
            w_norm = weight_pos.pow(2).sum(1, keepdim=True).pow(0.5)
            self.memory.index_copy_(0, y, weight_pos.div(w_norm))
        return loss


def build_moco_memory_bank() -> nn.Module:
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='MoCo', backbone=tiny_resnet(), ema_momentum=None,
        neck=NECK, head=dict(type='InfoNCEHead', temperature=TEMPERATURE),
        dictionary=dict(type='MemoryBankKeys', size=SIZE, num_negatives=NEGATIVES, dim=DIM,
                        proximal_weight=PROXIMAL_WEIGHT),
        bn_splits=1,  # plain BN: lemniscate's encoder has no split BN
        data_preprocessor=PLAIN_PREPROCESSOR))
    model.init_weights()
    return model.train()


def sgd(model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.05,
                           momentum=0.9, weight_decay=1e-4)


def mmssl_loss(model: nn.Module, step: Step) -> Tensor:
    torch.manual_seed(step.seed)
    samples = [DataSample(sample_idx=int(i)) for i in step.indices]
    return model.loss(step.views, samples)['loss']


def reference_loss(reference: NPIDReference, step: Step) -> Tensor:
    torch.manual_seed(step.seed)
    return reference(step.views[0], step.indices)


def test_training_matches_lemniscate():
    model = build_moco_memory_bank()
    reference = NPIDReference(MODELS.build(tiny_resnet()), MODELS.build(NECK), SIZE, DIM,
                              NEGATIVES, TEMPERATURE, PROXIMAL_WEIGHT).train()
    # the encoder and the bank (not lemniscate's initial one)
    copy_weights(model, reference, MMSSL_TO_REF, ignore=NOT_IN_REFERENCE)
    initial_bank = model.dictionary.bank.feats.clone()
    steps = [Step(image_views(BATCH, size=16, seed=i), torch.tensor(idx), 100 + i)
             for i, idx in enumerate(STEP_INDICES)]

    actual = train_steps(model, steps, mmssl_loss, sgd(model))
    expected = train_steps(reference, steps, reference_loss, sgd(reference))

    assert_same_record(actual, expected)
    assert_same_state(model, reference, [],
                      ignore=NOT_IN_REFERENCE + [r'memory$', r'dictionary\.'])
    assert_same(model.dictionary.bank.feats, reference.memory, 'memory bank')
    # every visited row moved, the others did not
    visited = sorted({i for idx in STEP_INDICES for i in idx})
    moved = (model.dictionary.bank.feats != initial_bank).any(dim=1)
    assert moved.nonzero().flatten().tolist() == visited
