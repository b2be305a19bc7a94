import copy
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from mmssl.models.utils.shuffle_bn import forward_in_splits
from mmssl.registry import MODELS
from tests._helpers import ema_step, image_views, resnet18
from tests._two_view import perturb_targets


def build_moco(queue_length=16, feat_dim=16, ema_momentum=0.99, bn_splits=1, dictionary=None):
    dictionary = dictionary or dict(type='QueueKeys', queue_length=queue_length, dim=feat_dim)
    model = MODELS.build(dict(
        type='MoCo', dictionary=dictionary, ema_momentum=ema_momentum,
        bn_splits=bn_splits, backbone=resnet18(),
        neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=32, out_channels=feat_dim,
                  with_avg_pool=True),
        head=dict(type='InfoNCEHead', temperature=0.2),
        data_preprocessor=dict(mean=[0, 0, 0], std=[1, 1, 1], to_rgb=False)))
    model.init_weights()
    return model


def test_key_encoder_starts_as_a_copy_of_the_query_encoder():
    model = build_moco()
    for online, target in model.momentum_pairs():
        for p_o, p_t in zip(online.parameters(), target.parameters()):
            assert torch.equal(p_o, p_t) and not p_t.requires_grad


def test_loss_matches_the_formula_and_enqueues_the_keys():
    torch.manual_seed(0)
    model = build_moco()
    perturb_targets(model)  # keys from the online encoder would no longer match
    views = image_views(4)
    negatives = model.dictionary.queue.keys.clone()
    loss = model.loss(views)['loss']

    with torch.no_grad():  # direct re-computation, same BN mode (train)
        q = F.normalize(model.neck(model.backbone(views[0]))[0], dim=1)
        k = F.normalize(model.momentum_neck(model.momentum_backbone(views[1]))[0], dim=1)
    tau, expected = 0.2, 0.0
    for i in range(4):
        pos = math.exp(float(q[i] @ k[i]) / tau)
        denom = pos + sum(math.exp(float(q[i] @ n) / tau) for n in negatives)
        expected -= math.log(pos / denom)
    assert loss.item() == pytest.approx(expected / 4, rel=1e-4)
    assert torch.allclose(model.dictionary.queue.keys[:4], k, atol=1e-5)
    assert torch.equal(model.dictionary.queue.keys[4:], negatives[4:])
    assert int(model.dictionary.queue.ptr) == 4


def test_gradients_reach_the_query_encoder_and_not_the_key_encoder():
    model = build_moco()
    model.loss(image_views(4))['loss'].backward()
    for name, param in model.named_parameters():
        if name.startswith('momentum_'):
            assert param.grad is None and not param.requires_grad, name
        else:
            assert param.grad is not None, name
    assert any(p.grad.abs().sum() > 0 for p in model.backbone.parameters())


def test_ema_update_follows_the_formula():
    model = build_moco(ema_momentum=0.9)
    with torch.no_grad():
        for p in model.backbone.parameters():
            p.add_(1.0)
    before = copy.deepcopy(model.momentum_backbone)
    assert model.ema_update() == 0.9  # no progress set: m = ema_momentum
    for new, old, online in zip(model.momentum_backbone.parameters(), before.parameters(),
                                model.backbone.parameters()):
        assert torch.equal(new, 0.9 * old + (1 - 0.9) * online)


def test_a_few_steps_lower_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = build_moco(queue_length=64)
    reference_negatives = model.dictionary.queue.snapshot()
    views = image_views(8, seed=1)
    data = dict(inputs=views, data_samples=None)

    def objective():  # the InfoNCE against a fixed set of negatives
        with torch.no_grad():
            q = F.normalize(model.project(views[0]), dim=1)
            k = F.normalize(model.momentum_project(views[1]), dim=1)
            return model.head.loss(q, k, reference_negatives).item()

    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    start = objective()
    for it in range(6):
        model.train_step(data, optim)
        ema_step(model, it, 6)
    assert objective() < start - 0.05


def test_split_bn_emulation_on_one_process():
    """bn_splits=2: queries with BN over the images n % 2 of the batch, in one pass."""
    torch.manual_seed(0)
    model = build_moco(bn_splits=2)
    views = image_views(4)
    with torch.no_grad():
        loss = model.loss(views)['loss']
        split = forward_in_splits(model.project, views[0], 2, model)
        groups = [model.project(views[0][g::2]) for g in range(2)]
    assert torch.isfinite(loss)
    assert torch.allclose(split, torch.stack(groups, dim=1).flatten(0, 1), atol=1e-5)
    # the emulation really is per-group BN: it differs from whole-batch BN
    assert not torch.allclose(split, model.project(views[0]), atol=1e-4)
    with pytest.raises(ValueError, match='bn_splits=3'):
        build_moco(bn_splits=3).loss(views)


def test_wrong_number_of_views_is_refused():
    with pytest.raises(ValueError, match='needs 2 views per image, got 3'):
        build_moco().loss(image_views(4, num_views=3))


def test_queue_length_not_a_multiple_of_the_batch():
    with pytest.raises(ValueError, match='queue length 10 is not a multiple of the global '
                       'batch 4; set model.dictionary.queue_length'):
        build_moco(queue_length=10).loss(image_views(4))


def test_a_dictionary_dim_other_than_the_neck_output_is_refused_at_build():
    with pytest.raises(ValueError, match=r'model\.neck\.out_channels=16 does not match '
                       r'model\.dictionary\.dim=8'):
        build_moco(dictionary=dict(type='QueueKeys', queue_length=16, dim=8))
    with pytest.raises(ValueError, match=r'out_channels=16 does not match '
                       r'model\.dictionary\.dim=32'):
        build_moco(ema_momentum=None, dictionary=dict(type='MemoryBankKeys', size=10, dim=32))


# The other two dictionaries of the MoCo paper's comparison: end-to-end and memory bank.

def build_end_to_end():
    return build_moco(ema_momentum=None, dictionary=dict(type='InBatchKeys'))


def build_memory_bank(size=10, num_negatives=5):
    return build_moco(ema_momentum=None, dictionary=dict(
        type='MemoryBankKeys', size=size, num_negatives=num_negatives, dim=16))


def samples(indices):
    return [DataSample(sample_idx=i) for i in indices]


def test_momentum_must_fit_the_dictionary():
    with pytest.raises(ValueError, match='model.ema_momentum=0.9 does not fit.*InBatchKeys'):
        build_moco(ema_momentum=0.9, dictionary=dict(type='InBatchKeys'))
    with pytest.raises(ValueError, match='model.ema_momentum=None does not fit.*QueueKeys'):
        build_moco(ema_momentum=None)


def test_end_to_end_loss_is_in_batch_infonce_with_gradients_to_both_views():
    torch.manual_seed(0)
    model = build_end_to_end()
    assert model.momentum_backbone is None and model.momentum_pairs() == []
    views = image_views(4)
    loss = model.loss(views)['loss']
    q = F.normalize(model.project(views[0]), dim=1)
    k = F.normalize(model.project(views[1]), dim=1)
    expected = 0.0
    for i in range(4):  # negatives: the keys of the other images
        logits = [float(q[i].detach() @ k[j].detach()) / 0.2 for j in range(4)]
        expected -= logits[i] - math.log(sum(math.exp(x) for x in logits))
    assert loss.item() == pytest.approx(expected / 4, rel=1e-4)

    # the key side is part of the graph: its gradient changes the result
    loss.backward()
    with_key_grad = [p.grad.clone() for p in model.backbone.parameters()]
    model.zero_grad()
    q = F.normalize(model.project(views[0]), dim=1)
    model.head.loss(q, k.detach()).backward()
    assert any(not torch.allclose(a, p.grad) for a, p in
               zip(with_key_grad, model.backbone.parameters()))


def test_end_to_end_has_no_ema_to_run():
    model = build_end_to_end()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    data = dict(inputs=image_views(4), data_samples=None)
    for _ in range(2):
        model.train_step(data, optim)
    assert ema_step(model, 0, 2) is None


def test_memory_bank_loss_positive_negatives_and_proximal_update():
    torch.manual_seed(0)
    model = build_memory_bank()
    bank = model.dictionary.bank
    drawn = []
    sample = bank.sample
    bank.sample = lambda b, m: drawn.append(sample(b, m)) or drawn[-1]  # record the draw
    before = bank.feats.clone()
    views, idx = image_views(4), [3, 7, 0, 9]
    loss = model.loss(views, samples(idx))['loss']

    with torch.no_grad():
        q = F.normalize(model.project(views[0]), dim=1)
    expected = 0.0
    for i, row in enumerate(idx):  # positive: the image's own bank row
        pos = math.exp(float(q[i] @ before[row]) / 0.2)
        neg = sum(math.exp(float(q[i] @ n) / 0.2) for n in drawn[0][i])
        expected -= math.log(pos / (pos + neg))
    assert loss.item() == pytest.approx(expected / 4, rel=1e-4)
    assert drawn[0].shape == (4, 5, 16)
    # v <- normalise(0.5 v + 0.5 f) on the batch's rows only, no gradient into the bank
    assert torch.allclose(bank.feats[idx], F.normalize(0.5 * before[idx] + 0.5 * q, dim=1),
                          atol=1e-5)
    rest = [i for i in range(10) if i not in idx]
    assert torch.equal(bank.feats[rest], before[rest]) and not bank.feats.requires_grad


def test_memory_bank_errors_name_the_missing_or_wrong_index():
    model = build_memory_bank(size=10)
    with pytest.raises(ValueError, match='needs the dataset index'):
        model.loss(image_views(4))
    with pytest.raises(ValueError, match=r'sample_idx 12 .*model.dictionary.size=10'):
        model.loss(image_views(4), samples([0, 1, 2, 12]))


@pytest.mark.parametrize('mechanism', ['end_to_end', 'memory_bank'])
def test_other_mechanisms_lower_the_loss_on_a_fixed_batch(mechanism):
    torch.manual_seed(0)
    model = build_end_to_end() if mechanism == 'end_to_end' else build_memory_bank(8, 16)
    views, data_samples = image_views(8, seed=1), samples(range(8))
    data = dict(inputs=views, data_samples=data_samples)

    def objective():
        with torch.no_grad():
            torch.manual_seed(1)  # the same memory-bank negatives each time
            return model.loss(views, data_samples)['loss'].item()

    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    bank_state = copy.deepcopy(model.dictionary.state_dict())
    start = objective()
    for _ in range(6):
        model.train_step(data, optim)
    model.dictionary.load_state_dict(bank_state)  # compare against the same bank
    assert objective() < start - 0.05
