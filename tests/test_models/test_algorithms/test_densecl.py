import copy
import math

import pytest
import torch
from mmengine.optim import OptimWrapper

from mmssl.models.algorithms.densecl import match_locations
from mmssl.models.memories import QueueKeys
from mmssl.models.utils import TrainingProgress, delayed_warmup_factor
from mmssl.registry import MODELS
from tests._helpers import ema_step, image_views
from tests._two_view import perturb_targets

TAU = 0.2


def build_densecl(queue_length=16, feat_dim=8, ema_momentum=0.99, bn_splits=1, num_grid=None,
                  loss_lambda=0.5, neck_out_channels=None, **kwargs):
    """ResNet_CIFAR-18 at width 8 (64 channels): a 3 x 3 last map on 24-px views."""
    model = MODELS.build(dict(
        type='DenseCL', queue_length=queue_length, feat_dim=feat_dim, ema_momentum=ema_momentum,
        loss_lambda=loss_lambda, bn_splits=bn_splits, **kwargs,
        backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=8, base_channels=8,
                      out_indices=(3,), norm_cfg=dict(type='BN'), zero_init_residual=False),
        neck=dict(type='DenseCLNeck', in_channels=64, hid_channels=16,
                  out_channels=neck_out_channels or feat_dim, num_grid=num_grid),
        head=dict(type='InfoNCEHead', temperature=TAU),
        data_preprocessor=dict(mean=[0, 0, 0], std=[1, 1, 1], to_rgb=False)))
    model.init_weights()
    return model


def _unit(v):
    return v / v.norm()


def _info_nce_term(q, pos, negatives):
    """-log(exp(q.pos/tau) / (exp(q.pos/tau) + sum_n exp(q.n/tau))), q etc. unit vectors."""
    positive = math.exp(float(q @ pos) / TAU)
    denominator = positive + sum(math.exp(float(q @ n) / TAU) for n in negatives)
    return -math.log(positive / denominator)


def test_loss_matches_the_paper_formula_and_both_queues_enqueue():
    torch.manual_seed(0)
    model = build_densecl()
    perturb_targets(model)  # keys (and the matching) from the online encoder would differ
    views = image_views(4, size=24)
    global_negatives = model.global_keys.queue.keys.clone()
    dense_negatives = model.dense_keys.queue.keys.clone()
    losses = model.loss(views)

    with torch.no_grad():  # direct re-computation, same BN mode (train)
        q_map = model.backbone(views[0])[-1].flatten(2)  # (N, C, L)
        q_global, q_dense, _ = model.neck(model.backbone(views[0]))
        k_map = model.momentum_backbone(views[1])[-1].flatten(2)
        k_global, k_dense, k_pooled = model.momentum_neck(model.momentum_backbone(views[1]))
    n, _, num_locations = q_map.shape
    assert num_locations == 9  # 3 x 3

    expected_global = sum(_info_nce_term(_unit(q_global[i]), _unit(k_global[i]),
                                         global_negatives) for i in range(n)) / n
    expected_dense = 0.0
    for i in range(n):
        for s in range(num_locations):
            # the key location whose backbone feature is the most similar (cosine)
            cosines = [float(q_map[i, :, s] @ k_map[i, :, t])
                       / float(q_map[i, :, s].norm() * k_map[i, :, t].norm())
                       for t in range(num_locations)]
            best = max(range(num_locations), key=lambda t: cosines[t])
            expected_dense += _info_nce_term(_unit(q_dense[i, :, s]), _unit(k_dense[i, :, best]),
                                             dense_negatives)
    expected_dense /= n * num_locations

    assert losses['loss_global'].item() == pytest.approx(0.5 * expected_global, rel=1e-4)
    assert losses['loss_dense'].item() == pytest.approx(0.5 * expected_dense, rel=1e-4)

    # the global queue takes the global keys, the dense queue each image's pooled dense key
    pooled_dense = k_dense.mean(dim=2)
    assert torch.allclose(pooled_dense, k_pooled, atol=1e-6)
    for queue, keys, before in ((model.global_keys.queue, k_global, global_negatives),
                                (model.dense_keys.queue, pooled_dense, dense_negatives)):
        expected_keys = torch.stack([_unit(k) for k in keys])
        assert torch.allclose(queue.keys[:n], expected_keys, atol=1e-5)
        assert torch.equal(queue.keys[n:], before[n:])
        assert int(queue.ptr) == n


def record_calls(keys: QueueKeys, name: str, calls: list) -> None:
    """Make ``keys.lookup``/``keys.update`` append (method, name, key) to ``calls``."""
    for method in ('lookup', 'update'):
        original = getattr(keys, method)

        def recorded(query, key, sample_idx, method=method, original=original):
            calls.append((method, name, key.clone()))
            return original(query, key, sample_idx)
        setattr(keys, method, recorded)


def test_both_queues_are_queue_keys_with_moco_fifo_semantics():
    """Each queue is a QueueKeys, read and written through MoCo's lookup/update: after
    three batches of 4 in K=8 the newest batch replaced the oldest, the pointer wrapped,
    and the state equals a standalone QueueKeys given the same keys."""
    torch.manual_seed(0)
    model = build_densecl(queue_length=8)
    names = ('global_keys', 'dense_keys')
    assert all(isinstance(getattr(model, name), QueueKeys) for name in names)
    references, calls = {}, []
    for name in names:
        references[name] = QueueKeys(queue_length=8, dim=8)
        references[name].load_state_dict(getattr(model, name).state_dict())
        record_calls(getattr(model, name), name, calls)

    batches = []
    for step in range(3):
        before = {name: getattr(model, name).queue.snapshot() for name in names}
        calls.clear()
        model.loss(image_views(4, size=24, seed=step))
        # MoCo's order: both lookups (the loss), then both updates, with the same keys
        assert [(method, name) for method, name, _ in calls] == [
            ('lookup', 'global_keys'), ('lookup', 'dense_keys'),
            ('update', 'global_keys'), ('update', 'dense_keys')]
        batch = {name: key for method, name, key in calls if method == 'update'}
        for method, name, key in calls[:2]:
            assert torch.equal(key, batch[name])
            _, negatives = references[name].lookup(None, key, None)
            assert torch.equal(negatives, before[name])  # the queue before this batch
            references[name].update(None, key, None)
        batches.append(batch)
    for name in names:
        queue = getattr(model, name).queue
        assert int(queue.ptr) == 4  # 12 keys in 8 rows: wrapped once
        assert torch.equal(queue.keys[:4], batches[2][name])  # replaced the oldest batch
        assert torch.equal(queue.keys[4:], batches[1][name])
        for buffer, expected in references[name].state_dict().items():
            assert torch.equal(getattr(model, name).state_dict()[buffer], expected)
        assert torch.allclose(batches[0][name].norm(dim=1), torch.ones(4))


def test_queue_errors_name_the_config_keys():
    with pytest.raises(ValueError, match=r'model\.neck\.out_channels=16 does not match '
                       r'model\.feat_dim=8'):
        build_densecl(feat_dim=8, neck_out_channels=16)
    with pytest.raises(ValueError, match='queue length 6 is not a multiple of the global batch '
                       '4; set model.queue_length'):
        build_densecl(queue_length=6).loss(image_views(4, size=24))


def test_checkpoints_of_the_earlier_queue_names_load():
    model = build_densecl()
    model.loss(image_views(4, size=24))
    renames = {'global_keys.queue.': 'global_queue.', 'dense_keys.queue.': 'dense_queue.'}
    old = {}
    for key, value in model.state_dict().items():
        for new, before in renames.items():
            key = key.replace(new, before)
        old[key] = value
    assert {'global_queue.keys', 'dense_queue.ptr'} <= set(old)
    restored = build_densecl()
    restored.load_state_dict(old)  # strict: every key found a place
    for name in ('global_keys', 'dense_keys'):
        new, ref = getattr(restored, name).queue, getattr(model, name).queue
        assert torch.equal(new.keys, ref.keys) and int(new.ptr) == int(ref.ptr) == 4


def test_correspondence_is_the_argmax_of_cosine_similarity():
    gen = torch.Generator().manual_seed(0)
    key_map = torch.randn(2, 6, 5, generator=gen)
    perm = torch.tensor([[3, 0, 4, 1, 2], [1, 1, 0, 4, 3]])
    # each query location points along its key location, with another length
    query_map = torch.stack([key_map[i][:, perm[i]] * (i + 0.5) for i in range(2)])
    # a long key vector in another direction wins a dot product, not a cosine
    decoy = key_map.clone()
    decoy[0, :, 2] = -100 * key_map[0, :, 2] + 300 * query_map[0, :, 0].abs()
    assert torch.equal(match_locations(query_map, key_map), perm)

    expected = torch.empty(2, 5, dtype=torch.long)
    for i in range(2):
        for s in range(5):
            cos = [float(torch.dot(query_map[i, :, s], decoy[i, :, t])
                         / (query_map[i, :, s].norm() * decoy[i, :, t].norm()))
                   for t in range(5)]
            expected[i, s] = max(range(5), key=lambda t: cos[t])
    assert torch.equal(match_locations(query_map, decoy), expected)
    dot_argmax = torch.einsum('ncl,ncm->nlm', query_map, decoy).argmax(dim=2)
    assert not torch.equal(dot_argmax, expected)


def test_gradients_reach_the_query_side_and_not_the_key_side():
    model = build_densecl()
    losses = model.loss(image_views(4, size=24))
    sum(losses.values()).backward()
    for name, param in model.named_parameters():
        if name.startswith('momentum_'):
            assert param.grad is None and not param.requires_grad, name
        else:
            assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_the_dense_weight_warms_up_by_iteration():
    model = build_densecl(loss_lambda=0.5, dense_loss_start_iter=2)
    assert model.dense_loss_weight == 0.5  # no progress set: past the warm-up
    weights = []
    for it in range(4):
        model.set_progress(TrainingProgress(it, 10))
        weights.append(model.dense_loss_weight)
    assert weights == [0, 0, 0.5, 0.5]
    ramp = build_densecl(loss_lambda=0.5, dense_loss_start_iter=1, dense_loss_ramp_iters=4)
    weights = []
    for it in range(7):
        ramp.set_progress(TrainingProgress(it, 10))
        weights.append(ramp.dense_loss_weight)
    assert weights == [0, 0.125, 0.25, 0.375, 0.5, 0.5, 0.5]
    assert [delayed_warmup_factor(it, 0) for it in range(2)] == [1, 1]
    with pytest.raises(ValueError, match='dense_loss_start_iter >= 0'):
        build_densecl(dense_loss_start_iter=-1)


def test_the_warmup_factor_scales_the_dense_weight():
    model = build_densecl(loss_lambda=0.5, dense_loss_start_iter=1)
    views = image_views(4, size=24)
    model.set_progress(TrainingProgress(0, 10))  # before dense_loss_start_iter
    assert model.dense_loss_weight == 0.0
    losses = model.loss(views)
    assert losses['loss_dense'].item() == 0.0 and losses['dense_weight'].item() == 0.0
    sum(value for key, value in losses.items() if 'loss' in key).backward()
    # with weight 0 the dense MLP gets a zero gradient; the global loss has weight 1
    assert all(p.grad.abs().sum() == 0 for p in model.neck.mlp2.parameters())
    assert all(p.grad.abs().sum() > 0 for p in model.neck.mlp.parameters())
    full = copy.deepcopy(model)
    full.set_progress(TrainingProgress(1, 10))
    assert full.dense_loss_weight == 0.5
    with torch.no_grad():
        query, key = full.encode_query(views[0]), full.encode_key(views[1])
        negatives = (full.global_keys.queue.snapshot(), full.dense_keys.queue.snapshot())
        weighted = full.contrastive_losses(query, key, *negatives)
        full.set_progress(TrainingProgress(0, 10))
        unweighted = full.contrastive_losses(query, key, *negatives)
    assert unweighted['loss_global'].item() == pytest.approx(
        2 * weighted['loss_global'].item(), rel=1e-6)
    assert weighted['dense_weight'].item() == 0.5


def test_ema_update_follows_the_formula():
    model = build_densecl(ema_momentum=0.9)
    with torch.no_grad():
        for p in list(model.backbone.parameters()) + list(model.neck.parameters()):
            p.add_(1.0)
    before = copy.deepcopy(model)
    assert ema_step(model, 0, 10) == 0.9
    for online in ('backbone', 'neck'):  # the whole key encoder, dense MLP included
        for new, old, o in zip(getattr(model, f'momentum_{online}').parameters(),
                               getattr(before, f'momentum_{online}').parameters(),
                               getattr(model, online).parameters()):
            assert torch.equal(new, 0.9 * old + (1 - 0.9) * o)


def test_a_few_steps_lower_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = build_densecl(queue_length=64)
    negatives = (model.global_keys.queue.snapshot(), model.dense_keys.queue.snapshot())
    views = image_views(8, size=24, seed=1)
    data = dict(inputs=views, data_samples=None)

    def objective():  # both losses against fixed negatives
        with torch.no_grad():
            losses = model.contrastive_losses(model.encode_query(views[0]),
                                              model.encode_key(views[1]), *negatives)
        return sum(losses.values()).item()

    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    start = objective()
    for it in range(5):
        model.train_step(data, optim)
        ema_step(model, it, 5)
    assert objective() < start - 0.05


def test_split_bn_emulation_keeps_every_output_in_image_order():
    """bn_splits=2: the query outputs are those of each BN group (images n % 2), in order."""
    torch.manual_seed(0)
    model = build_densecl(bn_splits=2)
    view = image_views(4, size=24)[0]
    with torch.no_grad():
        packed = model.encode_query(view)
        halves = [model._encode(model.backbone, model.neck, view[g::2]) for g in range(2)]
        key = model.encode_key(view)
    for i, field in enumerate(packed):
        expected = torch.stack([h[i] for h in halves], dim=1).flatten(0, 1)
        assert torch.allclose(field, expected, atol=1e-5)
        assert field.shape[0] == 4 and key[i].shape == field.shape
    assert packed.backbone_map.shape == (4, 64, 3, 3)
    assert packed.dense_proj.shape == (4, 8, 9)
    assert torch.isfinite(sum(model.loss(image_views(4, size=24)).values()))


def test_a_dense_grid_other_than_the_backbone_map_is_refused():
    model = build_densecl(num_grid=2)
    with pytest.raises(ValueError, match='num_grid=None'):
        model.loss(image_views(4, size=24))


def test_wrong_number_of_views_is_refused():
    with pytest.raises(ValueError, match='needs 2 views per image, got 1'):
        build_densecl().loss(image_views(4, size=24, num_views=1))
