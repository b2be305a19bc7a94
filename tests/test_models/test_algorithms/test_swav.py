import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper

from mmssl.models.memories import FIFOQueue
from mmssl.models.utils import TrainingProgress
from mmssl.registry import MODELS

BATCH = 4


def build_swav(queue_length=0, queue_start_epoch=0, num_crops=(2, 2), prototypes=6,
               head_feat_dim=8, **kwargs):
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='SwAV', num_crops=num_crops, queue_length=queue_length,
        queue_start_epoch=queue_start_epoch, **kwargs,
        backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=8, base_channels=8,
                      out_indices=(3,), norm_cfg=dict(type='BN'), zero_init_residual=False),
        neck=dict(type='SwAVNeck', in_channels=64, hid_channels=32, out_channels=8,
                  norm_cfg=dict(type='BN1d')),
        head=dict(type='SwAVHead', feat_dim=head_feat_dim, num_prototypes=prototypes,
                  temperature=0.1, epsilon=0.05, sinkhorn_iterations=3),
        data_preprocessor=dict(mean=[0, 0, 0], std=[1, 1, 1], to_rgb=False)))
    model.init_weights()
    return model.train()


def multi_crop_views(num_global=2, num_local=2, seed=0):
    """Fixed views: global ones at 16 px, then local ones at 8 px."""
    gen = torch.Generator().manual_seed(seed)
    return ([torch.randn(BATCH, 3, 16, 16, generator=gen) for _ in range(num_global)]
            + [torch.randn(BATCH, 3, 8, 8, generator=gen) for _ in range(num_local)])


def sinkhorn_written_out(scores, iters=3, eps=0.05):
    """The paper's Sinkhorn-Knopp: Q = exp(S^T/eps) / sum; rows to 1/K, columns to 1/B."""
    q = torch.exp(scores / eps).t()
    k, b = q.shape
    q = q / q.sum()
    for _ in range(iters):
        q = q / q.sum(dim=1, keepdim=True) / k
        q = q / q.sum(dim=0, keepdim=True) / b
    return (q * b).t()


def swapped_loss_written_out(model, views, queue_keys=None):
    """The paper's loss from the model's encoder, with the codes constant."""
    globals_, locals_ = views[:2], views[2:]
    feats = [model.backbone(torch.cat(globals_)), model.backbone(torch.cat(locals_))]
    z = F.normalize(model.neck(feats), dim=1)
    prototypes = model.head.prototypes.weight
    scores = [z_v @ prototypes.t() for z_v in z.split(BATCH)]
    losses = []
    for i in range(2):
        s_i = scores[i].detach()
        if queue_keys is not None:
            s_i = torch.cat([queue_keys[i] @ prototypes.detach().t(), s_i])
        codes = sinkhorn_written_out(s_i)[-BATCH:]
        for v in range(len(views)):
            if v != i:
                log_p = scores[v] / 0.1 - torch.logsumexp(scores[v] / 0.1, dim=1, keepdim=True)
                losses.append(-(codes * log_p).sum(dim=1).mean())
    return sum(losses) / len(losses)


def test_loss_and_its_gradient_match_the_formula_with_constant_codes():
    model = build_swav()
    views = multi_crop_views()
    loss = model.loss(views)['loss']
    # The prototypes are L2-normalised before the forward.
    torch.testing.assert_close(model.head.prototypes.weight.norm(dim=1), torch.ones(6))
    grad = torch.autograd.grad(loss, model.head.prototypes.weight)[0]

    expected = swapped_loss_written_out(model, views)
    expected_grad = torch.autograd.grad(expected, model.head.prototypes.weight)[0]
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-4, atol=1e-6)


def test_backbone_runs_once_per_view_size():
    model = build_swav(num_crops=(2, 3))
    calls = []
    model.backbone.register_forward_hook(lambda m, args, out: calls.append(args[0].shape))
    model.loss(multi_crop_views(num_local=3))
    assert calls == [(2 * BATCH, 3, 16, 16), (3 * BATCH, 3, 8, 8)]


def test_gradients_reach_backbone_neck_and_prototypes():
    model = build_swav(queue_length=8, freeze_prototypes_iters=2)
    model.set_progress(TrainingProgress(2, 10))  # past the frozen iterations
    model.loss(multi_crop_views())['loss'].backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    assert not any(buf.requires_grad for buf in model.buffers())  # the queues
    model.cancel_frozen_gradients()
    assert model.head.prototypes.weight.grad is not None
    model.set_progress(TrainingProgress(1, 10))  # frozen
    model.cancel_frozen_gradients()
    assert model.head.prototypes.weight.grad is None
    assert all(p.grad is not None for p in model.neck.parameters())


def test_prototypes_are_frozen_over_their_iterations_only():
    model = build_swav(freeze_prototypes_iters=3)
    assert not model.prototypes_frozen()  # no progress set: nothing frozen
    frozen = []
    for it in range(5):
        model.set_progress(TrainingProgress(it, 5))
        frozen.append(model.prototypes_frozen())
    assert frozen == [True, True, True, False, False]
    with pytest.raises(ValueError, match='freeze_prototypes_iters must be >= 0'):
        build_swav(freeze_prototypes_iters=-1)


def test_queue_starts_at_its_epoch_and_joins_the_codes_once_full():
    model = build_swav(queue_length=2 * BATCH, queue_start_epoch=1)
    assert {'projection_queues.0.keys', 'projection_queues.1.ptr',
            'queue_filled'} <= set(model.state_dict())
    views = multi_crop_views()
    model.set_progress(TrainingProgress(0, 8, 0, 2))
    before = model.projection_queues[0].snapshot()
    model.loss(views)
    assert torch.equal(model.projection_queues[0].keys, before)
    assert int(model.queue_filled) == 0

    model.set_progress(TrainingProgress(4, 8, 1, 2))
    for filled, seed in ((BATCH, 1), (2 * BATCH, 2)):  # not full before: batch codes only
        batch_views = multi_crop_views(seed=seed)
        with torch.no_grad():
            expected = swapped_loss_written_out(model, batch_views)
        assert model.loss(batch_views)['loss'].item() == pytest.approx(expected.item(),
                                                                       rel=1e-5)
        assert int(model.queue_filled) == filled
    with torch.no_grad():  # the projections of each global view were queued
        z = F.normalize(model.neck([model.backbone(torch.cat(batch_views[:2])),
                                    model.backbone(torch.cat(batch_views[2:]))]), dim=1)
    torch.testing.assert_close(model.projection_queues[1].keys[BATCH:], z[BATCH:2 * BATCH])

    queued = [queue.snapshot() for queue in model.projection_queues]
    with torch.no_grad():
        expected = swapped_loss_written_out(model, views, queue_keys=queued)
        without_queue = swapped_loss_written_out(model, views)
    assert model.loss(views)['loss'].item() == pytest.approx(expected.item(), rel=1e-5)
    assert expected.item() != pytest.approx(without_queue.item(), rel=1e-4)


def test_projection_queues_are_fifo_queues_named_by_their_length_key():
    model = build_swav(queue_length=6)
    assert len(model.projection_queues) == 2
    assert all(isinstance(q, FIFOQueue) and q.length == 6 for q in model.projection_queues)
    model.set_progress(TrainingProgress(0, 10))
    with pytest.raises(ValueError, match='queue length 6 is not a multiple of the global batch '
                       '4; set model.queue_length'):
        model.loss(multi_crop_views())


def test_a_head_dim_other_than_the_neck_output_is_refused_at_build():
    with pytest.raises(ValueError, match=r'model\.neck\.out_channels=8 does not match '
                       r'model\.head\.feat_dim=16'):
        build_swav(queue_length=8, head_feat_dim=16)


def test_checkpoints_of_the_earlier_queue_names_load():
    model = build_swav(queue_length=2 * BATCH)
    model.set_progress(TrainingProgress(0, 10))
    model.loss(multi_crop_views())
    old = {key.replace('projection_queues.', 'queues.'): value
           for key, value in model.state_dict().items()}
    assert 'queues.1.keys' in old
    restored = build_swav(queue_length=2 * BATCH)
    restored.load_state_dict(old)  # strict: every key found a place
    for new, ref in zip(restored.projection_queues, model.projection_queues):
        assert torch.equal(new.keys, ref.keys) and int(new.ptr) == int(ref.ptr) == BATCH


def test_a_few_steps_lower_the_loss_on_a_fixed_batch():
    model = build_swav()
    views = multi_crop_views(seed=1)
    data = dict(inputs=views, data_samples=None)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    with torch.no_grad():
        start = model.loss(views)['loss'].item()
    for _ in range(5):
        model.train_step(data, optim)
    with torch.no_grad():
        assert model.loss(views)['loss'].item() < start - 0.05


def test_wrong_number_of_views_is_refused():
    with pytest.raises(ValueError, match='needs 4 views per image, got 3'):
        build_swav().loss(multi_crop_views(num_local=1))
    with pytest.raises(ValueError, match='num_crops must be'):
        build_swav(num_crops=(0, 2))


def test_online_probe_reads_the_multi_crop_forward_without_another_pass():
    from mmpretrain.structures import DataSample
    model = build_swav()
    model.attach_online_probe(dict(in_channels=64, num_classes=3))
    calls = []
    model.backbone.register_forward_hook(lambda m, args, out: calls.append(args[0].shape))
    samples = [DataSample().set_gt_label(i % 3) for i in range(BATCH)]
    losses = model(multi_crop_views(), samples, mode='loss')
    assert {'loss', 'loss_probe'} <= set(losses) and len(calls) == 2  # one pass per size
