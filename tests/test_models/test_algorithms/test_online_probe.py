"""The online linear probe of BaseSelfSupervisor (``online_probe=...``), on any algorithm."""
import glob
import json
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmpretrain.structures import DataSample

from mmssl.registry import MODELS
from tests._helpers import REPO_ROOT, image_views, tiny_run_overrides

DENSECL_DEMO = osp.join(REPO_ROOT, 'configs/densecl/densecl_resnet18_1xb256-coslr-2e_fmnist.py')
BACKBONE = dict(type='ResNet_CIFAR', depth=18, stem_channels=8, base_channels=8,
                out_indices=(3,), norm_cfg=dict(type='BN'), zero_init_residual=False)
PREPROCESSOR = dict(mean=[0, 0, 0], std=[1, 1, 1], to_rgb=False)
PROBE = dict(in_channels=64, num_classes=3)


def build(algorithm: str, online_probe=PROBE):
    if algorithm == 'DenseCL':
        cfg = dict(type='DenseCL', queue_length=24, feat_dim=8, ema_momentum=0.99, bn_splits=1,
                   neck=dict(type='DenseCLNeck', in_channels=64, hid_channels=16,
                             out_channels=8),
                   head=dict(type='InfoNCEHead', temperature=0.2))
    else:  # an algorithm that does not hand its features over
        cfg = dict(type='SimCLR',
                   neck=dict(type='NonLinearNeck', in_channels=64, hid_channels=16,
                             out_channels=8, with_avg_pool=True, norm_cfg=dict(type='BN1d')),
                   head=dict(type='NTXentHead', temperature=0.2))
    model = MODELS.build(dict(cfg, backbone=BACKBONE, data_preprocessor=PREPROCESSOR,
                              online_probe=online_probe))
    model.init_weights()
    return model


def labelled(batch: int) -> list[DataSample]:
    return [DataSample().set_gt_label(i % 3) for i in range(batch)]


def count_calls(module) -> list:
    calls = []
    module.register_forward_hook(lambda *args: calls.append(1))
    return calls


def expected_probe(model, view, samples):
    """Cross-entropy and top-1 (%) of the linear layer on the pooled backbone feature."""
    with torch.no_grad():
        feats = model.backbone(view)[-1].mean(dim=(2, 3))
        logits = feats @ model.online_probe.fc.weight.t() + model.online_probe.fc.bias
    loss, hits = 0.0, 0
    for row, sample in zip(logits.tolist(), samples):
        label = int(sample.gt_label)
        loss -= math.log(math.exp(row[label]) / sum(math.exp(v) for v in row))
        hits += max(range(len(row)), key=lambda c: row[c]) == label
    return loss / len(samples), 100 * hits / len(samples)


@pytest.mark.parametrize('algorithm, backbone_calls', [('DenseCL', 1), ('SimCLR', 2)])
def test_probe_loss_is_the_cross_entropy_on_the_first_views_feature(algorithm, backbone_calls):
    """DenseCL hands its query features over (no extra forward); SimCLR costs one more."""
    torch.manual_seed(0)
    model = build(algorithm)
    views, samples = image_views(6, size=24), labelled(6)
    calls = count_calls(model.backbone)
    losses = model(views, samples, mode='loss')
    assert len(calls) == backbone_calls
    loss, accuracy = expected_probe(model, views[0], samples)
    assert losses['loss_probe'].item() == pytest.approx(loss, rel=1e-5)
    assert losses['acc_probe'].item() == pytest.approx(accuracy)
    assert not losses['acc_probe'].requires_grad


@pytest.mark.parametrize('algorithm', ['DenseCL', 'SimCLR'])
def test_the_probe_gradient_never_reaches_the_encoder(algorithm):
    model = build(algorithm)
    losses = model(image_views(6, size=24), labelled(6), mode='loss')
    encoder = [p for name, p in model.named_parameters()
               if not name.startswith('online_probe') and p.requires_grad]
    probe_grads = torch.autograd.grad(losses['loss_probe'], encoder + list(
        model.online_probe.parameters()), retain_graph=True, allow_unused=True)
    assert all(g is None for g in probe_grads[:len(encoder)])
    assert all(g is not None and g.abs().sum() > 0 for g in probe_grads[len(encoder):])
    # the encoder's gradient is that of the self-supervised losses alone
    ssl = sum(v for k, v in losses.items() if k != 'loss_probe' and 'loss' in k)
    with_probe = torch.autograd.grad(ssl + losses['loss_probe'], encoder, retain_graph=True)
    without = torch.autograd.grad(ssl, encoder)
    assert all(torch.equal(a, b) for a, b in zip(with_probe, without))


def test_predict_adds_the_probes_scores_and_labels():
    model = build('DenseCL').eval()
    images = image_views(4, size=28, num_views=1)[0]
    samples = model(images, labelled(4), mode='predict')
    with torch.no_grad():
        feats = model.backbone(images)[-1].mean(dim=(2, 3))
        scores = model.online_probe.fc(feats).softmax(dim=1)
    for sample, score in zip(samples, scores):
        assert torch.allclose(sample.pred_score, score, atol=1e-6)
        assert int(sample.pred_label) == int(score.argmax())
    without = build('DenseCL', online_probe=None).eval()
    assert not without.has_online_probe
    assert 'pred_score' not in without(images, labelled(4), mode='predict')[0]


def test_a_probe_without_labels_is_refused():
    with pytest.raises(ValueError, match='online_probe needs a gt_label'):
        build('SimCLR')(image_views(4, size=24), None, mode='loss')
    with pytest.raises(ValueError, match='online_probe needs a gt_label'):
        build('SimCLR')(image_views(4, size=24), [DataSample()] * 4, mode='loss')


KNN_LOADER = dict(
    batch_size=64, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='KNNDataset',
                 bank=dict(type='FashionMNIST', split='train', indices=120,
                           pipeline=[dict(type='PackInputs')], test_mode=True),
                 query=dict(type='FashionMNIST', split='test', indices=40,
                            pipeline=[dict(type='PackInputs')], test_mode=True)))


def _scalars(work_dir):
    path, = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_densecl_demo_trains_the_probe_and_reports_it_beside_knn(tmp_path, fashion_mnist_root):
    """The DenseCL Fashion-MNIST demo on 32 images (4 iterations) with its kNN hook."""
    cfg = Config.fromfile(DENSECL_DEMO)
    overrides = tiny_run_overrides(str(tmp_path), images=32, batch=8)
    overrides.update(
        # The demo's Shuffling BN in 4 groups of 2 images; the dense loss from iteration 2.
        model=dict(queue_length=64, dense_loss_start_iter=2),
        custom_hooks=[dict(type='KNNEvalHook', dataloader=KNN_LOADER, before_train=True,
                           k=5)],
        test_dataloader=KNN_LOADER, log_level='INFO')
    cfg.merge_from_dict(overrides)
    runner = Runner.from_cfg(cfg)
    runner.train()

    rows = _scalars(str(tmp_path))
    train_rows = [row for row in rows if 'loss_probe' in row]
    assert [row['step'] for row in train_rows] == [1, 2, 3, 4]
    assert all(0 <= row['acc_probe'] <= 100 and row['loss_probe'] > 0 for row in train_rows)
    eval_rows = [row for row in rows if 'knn/top1' in row]
    assert [row['step'] for row in eval_rows] == [0, 4]
    assert all(0 <= row['probe/top1'] <= 100 for row in eval_rows)
    log, = glob.glob(osp.join(str(tmp_path), '*', '*.log'))
    with open(log) as f:
        text = f.read()
    assert 'kNN evaluation after 4 iterations: knn/top1:' in text and 'probe/top1:' in text

    # The probe was trained with the rest (the optimizer stepped it) ...
    model = runner.model
    state = runner.optim_wrapper.optimizer.state
    assert all(state[p] for p in model.online_probe.parameters())
    # ... on real labelled batches, and its loss sends no gradient to the backbone.
    data = model.data_preprocessor(next(iter(runner.train_dataloader)), training=True)
    assert all('gt_label' in sample for sample in data['data_samples'])
    losses = model(**data, mode='loss')
    grads = torch.autograd.grad(losses['loss_probe'], list(model.backbone.parameters()),
                                allow_unused=True)
    assert all(g is None for g in grads)

    # tools/test.py's path: the demo's test evaluator reports both numbers.
    metrics = runner.test()
    assert {'knn/top1', 'knn/top5', 'probe/top1'} <= set(metrics)
