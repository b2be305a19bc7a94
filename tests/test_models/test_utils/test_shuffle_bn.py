"""Shuffling BN: the one-pass split BatchNorm, the key order, and the MoCo family's use."""
import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmssl.models.utils.shuffle_bn import (DEFAULT_BN_SPLITS, SplitBatchNorm1d,
                                           SplitBatchNorm2d, convert_split_bn,
                                           forward_in_splits, forward_shuffled,
                                           key_permutation, split_batch_norm)
from mmssl.registry import MODELS
from tests._dist import run_distributed
from tests._two_view import PLAIN_PREPROCESSOR, mlp, tiny_resnet


def build_moco(bn_splits: int = 4, dictionary: dict = None, **kwargs):
    """MoCo on ResNet_CIFAR-18 at width 8 with a BN1d MLP neck (BN2d and BN1d layers)."""
    model = MODELS.build(dict(
        type='MoCo', backbone=tiny_resnet(), neck=mlp(64, 32, 16, with_avg_pool=True),
        head=dict(type='InfoNCEHead', temperature=0.2),
        dictionary=dictionary or dict(type='QueueKeys', queue_length=32, dim=16),
        ema_momentum=None if dictionary else 0.99, bn_splits=bn_splits,
        data_preprocessor=PLAIN_PREPROCESSOR, **kwargs))
    model.init_weights()
    return model


def randomise_bn(module: nn.Module, seed: int = 0) -> None:
    """Non-trivial affine parameters and running statistics in every BN layer."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for bn in module.modules():
            if isinstance(bn, nn.modules.batchnorm._BatchNorm):
                bn.weight.copy_(torch.rand(bn.weight.shape, generator=gen) + 0.5)
                bn.bias.copy_(torch.randn(bn.bias.shape, generator=gen))
                bn.running_mean.copy_(torch.randn(bn.running_mean.shape, generator=gen))
                bn.running_var.copy_(torch.rand(bn.running_var.shape, generator=gen) + 0.5)


def bn_state(module: nn.Module) -> dict:
    return {k: v for k, v in module.state_dict().items() if 'running' in k}


@pytest.mark.parametrize('one_pass', [True, False], ids=['one-pass', 'group-by-group'])
@pytest.mark.parametrize('channels_last', [False, True])
def test_one_pass_equals_one_encoder_per_group(channels_last, one_pass):
    """Backbone (BN2d) + neck (BN1d) on 4 groups, in one pass (the GPU path) or group by
    group (the CPU path), vs 4 copies of the encoder, each on its group alone (as on 4
    GPUs): outputs, running statistics (the copies' mean, one update) and parameter
    gradients (the copies' sum). In float64, so that the 1e-5 bound is not float32
    rounding of large gradients (float32: up to 5e-5 relative)."""
    groups, batch = 4, 12
    model = build_moco(bn_splits=groups).double()
    randomise_bn(model)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model.to(memory_format=memory_format)
    x = torch.randn(batch, 3, 16, 16, dtype=torch.float64).contiguous(
        memory_format=memory_format)
    weights = torch.randn(batch, 16, dtype=torch.float64)
    copies = [copy.deepcopy(model) for _ in range(groups)]

    out = forward_in_splits(model.project, x, groups, model, one_pass=one_pass)
    (out * weights).sum().backward()
    per_group = [c.project(x[g::groups]) for g, c in enumerate(copies)]
    sum((o * weights[g::groups]).sum() for g, o in enumerate(per_group)).backward()

    expected = torch.stack(per_group, dim=1).flatten(0, 1)  # image n is in group n % 4
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
    for name, param in model.named_parameters():
        if param.grad is None:
            continue
        grads = [dict(c.named_parameters())[name].grad for c in copies]
        torch.testing.assert_close(param.grad, sum(grads), rtol=1e-5, atol=1e-5, msg=name)
    running = bn_state(model)
    assert running, 'no BN layer was checked'
    for key, value in running.items():
        mean_of_copies = torch.stack([bn_state(c)[key] for c in copies]).mean(0)
        torch.testing.assert_close(value, mean_of_copies, rtol=1e-5, atol=1e-5, msg=key)
    tracked = [v for k, v in model.state_dict().items()
               if k.startswith(('backbone.', 'neck.')) and k.endswith('num_batches_tracked')]
    assert tracked and all(int(v) == 1 for v in tracked)  # one update per forward
    assert all(m.group_stats is None and m.num_groups == 1 for m in model.modules()
               if isinstance(m, (SplitBatchNorm1d, SplitBatchNorm2d)))
    # The check can fail: plain BN over the whole batch is another function.
    with torch.no_grad():
        assert not torch.allclose(copies[0].project(x), out, atol=1e-3)


def test_the_cpu_runs_the_groups_one_by_one_with_the_keys_of_the_one_pass():
    """forward_in_splits/forward_shuffled pick the group-by-group path on the CPU by
    default; the shuffled keys (same permutation) equal the one pass's."""
    groups, batch = 4, 16
    model = build_moco(bn_splits=groups).double()
    randomise_bn(model, seed=3)
    twin = copy.deepcopy(model)
    x = torch.randn(batch, 3, 16, 16, dtype=torch.float64)
    calls = []
    model.backbone.register_forward_hook(lambda m, args, out: calls.append(args[0].shape[0]))
    torch.manual_seed(5)
    keys = forward_shuffled(model.project, x, groups, model)
    assert calls == [batch // groups] * groups
    torch.manual_seed(5)
    expected = forward_shuffled(twin.project, x, groups, twin, one_pass=True)
    torch.testing.assert_close(keys, expected, rtol=1e-7, atol=1e-7)
    torch.testing.assert_close(bn_state(model), bn_state(twin), rtol=1e-7, atol=1e-7)


def test_split_bn_keeps_parameters_buffers_and_checkpoint_keys():
    plain = MODELS.build(tiny_resnet())
    randomise_bn(plain, seed=1)
    reference = copy.deepcopy(plain)
    before = {name: tensor for name, tensor in plain.state_dict(keep_vars=True).items()}
    converted = convert_split_bn(plain)
    kinds = {type(m) for m in converted.modules()}
    assert SplitBatchNorm2d in kinds and nn.BatchNorm2d not in kinds
    after = converted.state_dict(keep_vars=True)
    assert list(after) == list(before)
    assert all(after[name] is before[name] for name in before)  # the same tensors
    # A plain-BN checkpoint loads strictly, and without groups the layers are plain BN.
    converted.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(4, 3, 16, 16)
    torch.testing.assert_close(converted(x)[-1], reference(x)[-1])
    assert isinstance(convert_split_bn(nn.BatchNorm1d(3)), SplitBatchNorm1d)
    assert type(convert_split_bn(nn.SyncBatchNorm(3))) is nn.SyncBatchNorm


def test_eval_mode_uses_the_running_statistics():
    bn = convert_split_bn(nn.BatchNorm2d(3))
    randomise_bn(bn)
    bn.eval()
    x = torch.randn(8, 3, 4, 4) * 5 + 2
    state = copy.deepcopy(bn.state_dict())
    with split_batch_norm(bn, 4, 8):
        out = bn(x)
    expected = ((x - state['running_mean'][:, None, None])
                / torch.sqrt(state['running_var'][:, None, None] + bn.eps)
                * bn.weight[:, None, None] + bn.bias[:, None, None])
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
    for key, value in bn.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_a_batch_that_bn_splits_does_not_divide_is_refused():
    model = build_moco(bn_splits=3)
    views = [torch.randn(4, 3, 16, 16) for _ in range(2)]
    with pytest.raises(ValueError, match=r'bn_splits=3 .*batch of 4 images'):
        model.loss(views)
    with pytest.raises(ValueError, match='bn_splits must be an int >= 1'):
        build_moco(bn_splits=0)
    # groups of one image: BN1d of the neck would have one value per channel
    with pytest.raises(ValueError, match=r'bn_splits=4 leaves one image .*batch of 4 images'):
        build_moco(bn_splits=4).loss(views)


def test_the_moco_family_shuffles_by_default():
    assert DEFAULT_BN_SPLITS == 8
    for cfg in (dict(type='MoCo', dictionary=dict(type='QueueKeys', queue_length=32, dim=16),
                     ema_momentum=0.99, neck=mlp(64, 32, 16, with_avg_pool=True)),
                dict(type='Exemplar', neck=mlp(64, 32, 16, with_avg_pool=True)),
                dict(type='DenseCL', queue_length=32, feat_dim=8,
                     neck=dict(type='DenseCLNeck', in_channels=64, hid_channels=16,
                               out_channels=8))):
        model = MODELS.build(dict(cfg, backbone=tiny_resnet(),
                                  head=dict(type='InfoNCEHead', temperature=0.2)))
        assert model.bn_splits == 8, cfg['type']
        assert not any(type(m) in (nn.BatchNorm1d, nn.BatchNorm2d) for m in model.modules())


def group_members(out: torch.Tensor) -> list[set]:
    """Row n of an affine-free BN of one-hot images e_0..e_{N-1}: (δ_nj - 1/m) / σ on the
    m images j of its group, exactly 0 elsewhere. So the support of row n is its group."""
    return [set(torch.nonzero(row.abs() > 1e-3).flatten().tolist()) for row in out]


ONE_HOT_BN = dict(affine=False, momentum=None)


@pytest.mark.parametrize('batch, groups', [(8, 4), (16, 4), (32, 4), (16, 8)])
def test_a_query_never_shares_its_bn_group_with_its_key(batch, groups):
    """One-hot images through a split BN: the support of an output row is the BN group
    that normalised it. A key's group holds at most ceil(m / groups) images of its
    query's group (m = batch / groups): only the image itself when m <= groups. And
    key n is image n's: its largest entry is at n."""
    bn = convert_split_bn(nn.BatchNorm1d(batch, **ONE_HOT_BN))
    images = torch.eye(batch)
    per_group = batch // groups
    bound = math.ceil(per_group / groups)
    query_groups = group_members(forward_in_splits(bn, images, groups, bn))
    assert query_groups == [{j for j in range(batch) if j % groups == n % groups}
                            for n in range(batch)]
    for seed in range(30):
        torch.manual_seed(seed)
        keys = forward_shuffled(bn, images, groups, bn)
        assert torch.equal(keys.argmax(dim=1), torch.arange(batch))
        key_groups = group_members(keys)
        for n in range(batch):
            assert n in key_groups[n] and len(key_groups[n]) == per_group
            assert len(key_groups[n] & query_groups[n]) <= bound, (seed, n)

    # The check can fail: a uniform random order puts some key in its query's group.
    overlaps = []
    for seed in range(30):
        torch.manual_seed(seed)
        perm = torch.randperm(batch)
        with split_batch_norm(bn, groups, batch):
            key_groups = group_members(bn(images[perm])[torch.argsort(perm)])
        overlaps += [len(key_groups[n] & query_groups[n]) for n in range(batch)]
    assert max(overlaps) > bound


def test_key_permutation_is_a_balanced_random_order():
    perm = key_permutation(16, 4, torch.device('cpu'))
    assert sorted(perm.tolist()) == list(range(16))
    # key group h (positions p % 4 == h) takes one image from each query group (n % 4)
    for h in range(4):
        assert sorted((perm[h::4] % 4).tolist()) == [0, 1, 2, 3]
    draws = {tuple(key_permutation(16, 4, torch.device('cpu')).tolist()) for _ in range(5)}
    assert len(draws) == 5
    with pytest.raises(ValueError, match='bn_splits=4 .*batch of 6 images'):
        key_permutation(6, 4, torch.device('cpu'))


def test_end_to_end_keys_are_computed_on_the_reordered_batch_with_gradients():
    """InBatchKeys: key n by the query encoder, BN over the images of n's key group
    (one copy of the encoder per key group as reference), gradients reach the encoder."""
    groups, batch = 2, 8
    model = build_moco(bn_splits=groups, dictionary=dict(type='InBatchKeys'))
    randomise_bn(model)
    reference = copy.deepcopy(model)
    view = torch.randn(batch, 3, 16, 16)
    torch.manual_seed(3)
    key = model.encode_key(view)
    torch.manual_seed(3)
    perm = key_permutation(batch, groups, view.device)  # the order encode_key drew
    expected = torch.empty_like(key)
    for g in range(groups):
        images = perm[g::groups]
        expected[images] = F.normalize(reference.project(view[images]), dim=1)
    torch.testing.assert_close(key, expected, rtol=1e-5, atol=1e-5)
    key.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.backbone.parameters() if p.requires_grad)
    # the keys are not the queries' BN groups (images n % 2): the reorder took place
    with torch.no_grad():
        same_groups = F.normalize(forward_in_splits(reference.project, view, groups,
                                                    reference), dim=1)
    assert not torch.allclose(key, same_groups, atol=1e-3)


def _distributed_shuffled_keys(rank: int, world_size: int) -> dict:
    """4 one-hot images per rank (global index rank * 4 + n) through plain BN on each rank
    with Shuffling BN; and a linear encoder's gradient through the shuffled forward."""
    torch.manual_seed(0)
    batch = 4
    images = torch.eye(batch * world_size)[rank * batch:(rank + 1) * batch]
    bn = convert_split_bn(nn.BatchNorm1d(batch * world_size, **ONE_HOT_BN))
    keys = forward_shuffled(bn, images, 2, bn)  # bn_splits is ignored across processes
    torch.manual_seed(1)  # the same encoder and targets as the single process's
    linear = nn.Linear(batch * world_size, 3)
    targets = torch.randn(batch * world_size, 3)[rank * batch:(rank + 1) * batch]
    (forward_shuffled(linear, images, 2, linear) * targets).sum().backward()
    return dict(argmax=keys.argmax(dim=1), groups=[sorted(g) for g in group_members(keys)],
                grad=linear.weight.grad)


def test_shuffled_keys_across_two_processes_are_unshuffled_with_gradients():
    ranks = run_distributed(_distributed_shuffled_keys, 2)
    for rank, result in enumerate(ranks):
        assert torch.equal(result['argmax'], torch.arange(4) + 4 * rank)
        # each rank's BN is one group of 4 of the 8 images
        assert all(len(g) == 4 for g in result['groups'])
    # The ranks' gradients sum to one process's on the global batch: the keys' gradient
    # went back to the rank that computed them.
    torch.manual_seed(1)
    images = torch.eye(8)
    linear = nn.Linear(8, 3)
    targets = torch.randn(8, 3)
    (linear(images) * targets).sum().backward()
    torch.testing.assert_close(ranks[0]['grad'] + ranks[1]['grad'], linear.weight.grad)
