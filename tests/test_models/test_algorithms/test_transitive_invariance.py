"""TransitiveInvariance: the triplet ranking loss on [anchor, positive, negative] views."""
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from mmssl.mining.graph import PatchGraph
from mmssl.registry import DATASETS, MODELS
from tests._helpers import REPO_ROOT, image_views

LABELME_CONFIG = osp.join(REPO_ROOT, 'configs/transitiveinvariance/'
                          'transitiveinvariance_resnet18_1xb32-coslr-2e_labelme.py')


def build(in_batch_negatives: bool = False, margin: float = 0.5):
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='TransitiveInvariance',
        in_batch_negatives=in_batch_negatives,
        backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=8, base_channels=8,
                      out_indices=(3,), norm_cfg=dict(type='BN'), zero_init_residual=False),
        neck=dict(type='NonLinearNeck', in_channels=64, hid_channels=64, out_channels=16,
                  num_layers=2, with_avg_pool=True, norm_cfg=dict(type='BN1d')),
        head=dict(type='TripletRankingHead', margin=margin)))


def cosine_distance(x, y):
    return 1 - F.cosine_similarity(x, y, dim=-1)


def test_head_matches_the_hinge_on_tiny_tensors():
    head = MODELS.build(dict(type='TripletRankingHead', margin=0.5))
    a = F.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), dim=1)
    p = F.normalize(torch.tensor([[1.0, 1.0], [0.0, 1.0]]), dim=1)
    n = F.normalize(torch.tensor([[1.0, -0.2], [1.0, 0.0]]), dim=1)
    expected = (cosine_distance(a, p) - cosine_distance(a, n) + 0.5).clamp(min=0).mean()
    torch.testing.assert_close(head.loss(a, p, n.unsqueeze(1)), expected)
    assert expected > 0  # the first triplet violates the margin


@pytest.mark.parametrize('in_batch', [False, True])
def test_loss_is_the_cosine_triplet_hinge(in_batch):
    model = build(in_batch_negatives=in_batch).train()
    views = image_views(4, size=16, num_views=3)
    loss = model.loss(views)['loss']
    with torch.no_grad():  # the same BN batch: the three views as one batch
        z = model.project(torch.cat(views))
    a, p, n = z.split(4)
    if in_batch:  # every anchor against all 4 negatives
        d_an = cosine_distance(a[:, None], n[None])  # (4, 4)
    else:
        d_an = cosine_distance(a, n)[:, None]
    expected = (cosine_distance(a, p)[:, None] - d_an + 0.5).clamp(min=0).mean()
    torch.testing.assert_close(loss.detach(), expected, rtol=1e-4, atol=1e-5)


def test_gradients_reach_backbone_and_neck():
    model = build().train()
    model.loss(image_views(4, size=16, num_views=3))['loss'].backward()
    for name in ('backbone', 'neck'):
        grads = [p.grad for p in getattr(model, name).parameters() if p.requires_grad]
        assert any(g is not None and g.abs().sum() > 0 for g in grads), name


def test_sgd_steps_lower_the_loss_on_a_fixed_batch():
    model = build(margin=1.0).train()
    views = image_views(8, size=16, num_views=3, seed=1)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(8):
        loss = model.loss(views)['loss']
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses


def test_wrong_number_of_views_is_named():
    model = build()
    with pytest.raises(ValueError, match='needs 3 views per image, got 2'):
        model.loss(image_views(2, size=16, num_views=2))


def test_loss_of_each_pair_kind_is_logged_without_gradient():
    model = build().train()
    views = image_views(4, size=16, num_views=3, seed=2)
    kinds = ['transitive', 'intra', 'transitive', 'inter']
    samples = [DataSample(metainfo=dict(pair_kind=kind)) for kind in kinds]
    losses = model.loss(views, samples)
    assert sorted(losses) == ['loss', 'triplet_inter', 'triplet_intra', 'triplet_transitive']
    with torch.no_grad():
        a, p, n = F.normalize(model.project(torch.cat(views)), dim=1).split(4)
    hinge = (cosine_distance(a, p) - cosine_distance(a, n) + 0.5).clamp(min=0)
    torch.testing.assert_close(losses['loss'].detach(), hinge.mean(), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(losses['triplet_transitive'], hinge[[0, 2]].mean(),
                               rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(losses['triplet_intra'], hinge[1], rtol=1e-4, atol=1e-5)
    assert not losses['triplet_inter'].requires_grad and losses['loss'].requires_grad
    assert sorted(model.loss(views, [DataSample() for _ in kinds])) == ['loss']


def _random_crop_graph(folder: str) -> str:
    """Two tracks (head and last patch) and an inter edge between the heads: 2 intra,
    1 inter and 2 transitive pairs, plus two unlinked nodes; random 48-px crops."""
    graph = PatchGraph()
    records = [dict(source=f'v{n // 2}', frame=9 * (n % 2), box=[0, 0, 48, 48], track=0)
               for n in range(6)]
    graph.add(records, [(0, 1), (2, 3)], 'intra')
    graph.link([(0, 2)], 'inter')
    rng = np.random.default_rng(0)
    path = osp.join(folder, 'graph.json')
    graph.write_crops([rng.integers(0, 255, (48, 48, 3), np.uint8) for _ in range(6)],
                      osp.join(folder, 'patches'), path)
    graph.save(path)
    return path


def test_labelme_config_trains_a_step_on_a_mined_graph(tmp_path):
    cfg = Config.fromfile(LABELME_CONFIG)
    cfg.train_dataloader.dataset.graph_file = _random_crop_graph(str(tmp_path))
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(dataset) == 5
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    torch.manual_seed(0)
    model = MODELS.build(model_cfg).train()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.05))
    before = [p.detach().clone() for p in model.backbone.parameters()]
    np.random.seed(0)
    log_vars = model.train_step(default_collate([dataset[i] for i in range(5)]), optim)
    assert torch.isfinite(log_vars['loss'])
    assert {'triplet_intra', 'triplet_inter', 'triplet_transitive'} <= set(log_vars)
    assert any(not torch.equal(b, p) for b, p in zip(before, model.backbone.parameters()))
