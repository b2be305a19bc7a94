"""mmssl/models/algorithms/pretext.py: RotationPred, RelativeLoc, Jigsaw and Counting."""
import numpy as np
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample
from torch import nn

from mmssl.models.losses import counting_loss
from mmssl.registry import MODELS

TINY_RESNET = dict(type='ResNet_CIFAR', depth=18, stem_channels=8, base_channels=8,
                   out_indices=(3,), norm_cfg=dict(type='BN'))
# algorithm, views, view size, head, labels per image
TASKS = {
    'RotationPred': (4, 12, dict(type='PretextClsHead', in_channels=64, num_classes=4), 4),
    'RelativeLoc': (2, 8, dict(type='PretextClsHead', in_channels=64, num_classes=8,
                               num_parts=2, hid_channels=[32]), 1),
    'Jigsaw': (9, 6, dict(type='PretextClsHead', in_channels=64, num_classes=10, num_parts=9,
                          part_channels=[16], hid_channels=[32]), 1),
    'Counting': (5, 8, dict(type='CountingHead', in_channels=64, count_channels=16,
                            hid_channels=[32]), 0),
}


def labelled(label):
    """A data sample carrying ``pretext_label``, as PackInputs(algorithm_keys=...) packs it."""
    sample = DataSample()
    sample.set_field(label, 'pretext_label')
    return sample


def build(algo, **kwargs):
    torch.manual_seed(0)
    cfg = dict(type=algo, backbone=TINY_RESNET,
               data_preprocessor=dict(mean=[0, 0, 0], std=[1, 1, 1], to_rgb=False))
    if algo in TASKS:
        cfg['head'] = TASKS[algo][2]
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def build_dense(algo, head):
    """Colorization or MotionSegmentation: ``head`` on the tiny ResNet's stage-3 map (32
    channels, 4 x 4 for 16-px views)."""
    return build(algo, backbone=dict(TINY_RESNET, out_indices=(2,)), head=head)


def losses_before_and_after_adam(model, views, samples, lr, steps=6):
    """The loss on the fixed batch (views, samples) before and after ``steps`` Adam steps."""
    wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=lr))
    first = model(views, samples, mode='loss')['loss'].item()
    for _ in range(steps):
        wrapper.update_params(model(views, samples, mode='loss')['loss'])
    return first, model(views, samples, mode='loss')['loss'].item()


def batch(algo, n=6, seed=0):
    num_views, size, _, num_labels = TASKS[algo]
    gen = torch.Generator().manual_seed(seed)
    views = [torch.randn(n, 3, size, size, generator=gen) for _ in range(num_views)]
    samples = []
    for i in range(n):
        if algo == 'RotationPred':
            samples.append(labelled(np.arange(4)))
        elif num_labels:
            samples.append(labelled(np.array([i % TASKS[algo][2]['num_classes']])))
        else:
            samples.append(DataSample())
    return views, samples


@pytest.mark.parametrize('algo', list(TASKS))
def test_gradients_reach_the_backbone_and_steps_lower_the_loss(algo):
    model = build(algo)
    views, samples = batch(algo)
    losses = model(views, samples, mode='loss')
    losses['loss'].backward()
    grads = [p.grad for p in model.backbone.parameters()]
    assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0
    assert model.backbone.conv1.weight.grad.abs().sum() > 0  # down to the first layer

    model.zero_grad()
    # Adam: SGD at a rate that moves the loss in 6 steps can kill every ReLU count of the
    # counting head at once (the loss then sticks at M)
    first, last = losses_before_and_after_adam(model, views, samples, lr=2e-3)
    assert last < 0.8 * first, (first, last)


class ViewCode(nn.Module):
    """A stand-in backbone: the mean of each image's first channel, as a (B, 1) feature."""

    def forward(self, x):
        return (x[:, :1].mean(dim=(2, 3)),)


class Capture(nn.Module):
    def __init__(self):
        super().__init__()
        self.seen = None

    def loss(self, feats, labels):
        self.seen = feats, labels
        return dict(loss=feats.sum())


@pytest.mark.parametrize('algo,groups', [('RotationPred', 4), ('RelativeLoc', 1),
                                         ('Jigsaw', 1)])
def test_views_are_grouped_per_image_in_view_order(algo, groups):
    num_views, size = TASKS[algo][:2]
    head = Capture()
    model = MODELS.build(dict(type=algo, backbone=ViewCode(), head=head, view_norm=False))
    n = 3
    views = [torch.full((n, 3, size, size), 0.0) + torch.arange(n).view(n, 1, 1, 1) * 100 + v
             for v in range(num_views)]
    samples = [labelled(torch.arange(groups) + 10 * i) for i in range(n)]
    model.loss(views, samples)
    feats, labels = head.seen
    per_group = num_views // groups
    assert feats.shape == (n * groups, per_group, 1)
    expected = torch.tensor([[100 * i + g * per_group + k for k in range(per_group)]
                             for i in range(n) for g in range(groups)], dtype=torch.float)
    assert torch.equal(feats[..., 0], expected)
    assert labels.tolist() == [10 * i + g for i in range(n) for g in range(groups)]


def test_jigsaw_normalises_each_tile():
    head = Capture()
    model = MODELS.build(dict(type='Jigsaw', backbone=ViewCode(), head=head))
    assert model.view_norm
    views = [torch.rand(2, 3, 6, 6) * (v + 1) + 5 * v for v in range(9)]
    samples = [labelled(np.array([0])) for _ in range(2)]
    model.loss(views, samples)
    assert head.seen[0].abs().max() < 1e-5  # every tile has zero mean after its own norm


def test_counting_loss_is_the_pure_function_of_the_heads_counts():
    model = build('Counting')
    model.eval()  # BN with running statistics: the recomputation sees the same numbers
    views, _ = batch('Counting', n=4)
    loss = model.loss(views)['loss']
    with torch.no_grad():
        counts = [model.head(model.backbone(v)[-1].mean(dim=(2, 3))) for v in views]
    down, tiles = counts[0], torch.stack(counts[1:], dim=1)
    expected = counting_loss(down, tiles, down.roll(1, 0), 10.0)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-4)
    assert (counts[0] >= 0).all()


def test_clear_errors():
    model = build('RotationPred')
    views, samples = batch('RotationPred')
    with pytest.raises(ValueError, match='needs 4 views per image, got 2'):
        model.loss(views[:2], samples)
    with pytest.raises(ValueError, match="algorithm_keys=\\['pretext_label'\\]"):
        model.loss(views, [DataSample() for _ in samples])
    with pytest.raises(ValueError, match='expected 4 pretext labels per image, got 1'):
        model.loss(views, [labelled(np.array([0])) for _ in samples])
    counting = build('Counting')
    one = [v[:1] for v in batch('Counting')[0]]
    with pytest.raises(ValueError, match='at least 2 images'):
        counting.loss(one)
    with pytest.raises(ValueError, match='do not split into groups'):
        build('RelativeLoc', num_views=3)


def test_predict_gives_the_backbone_feature_for_knn():
    model = build('Jigsaw')
    samples = model(torch.randn(2, 3, 16, 16), mode='predict')
    assert samples[0].feat.shape == (64,)


def test_colorization_learns_the_ab_bins_of_a_fixed_batch():
    model = build_dense('Colorization', dict(type='ColorizationHead', in_channels=32,
                                             num_bins=484, hid_channels=16))
    gen = torch.Generator().manual_seed(0)
    view = torch.randn(4, 3, 16, 16, generator=gen)
    samples = [DataSample() for _ in range(4)]
    for sample in samples:  # a few colours, as in a real image
        sample.set_field(torch.randint(4, (8, 8), generator=gen) * 100, 'ab_label')
    losses = model([view], samples, mode='loss')
    losses['loss'].backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    model.zero_grad()
    first, last = losses_before_and_after_adam(model, [view], samples, lr=1e-2)
    assert last < 0.8 * first, (first, last)
    with pytest.raises(ValueError, match="algorithm_keys=\\['ab_label'\\]"):
        model.loss([view], [DataSample() for _ in range(4)])


def test_motion_segmentation_loss_is_the_pixel_cross_entropy_over_known_pixels():
    model = build_dense('MotionSegmentation', dict(type='DenseClsHead', in_channels=32,
                                                   num_classes=2, hid_channels=16,
                                                   ignore_index=255))
    gen = torch.Generator().manual_seed(0)
    view = torch.randn(4, 3, 16, 16, generator=gen)
    masks = torch.zeros(4, 8, 8, dtype=torch.long)
    masks[:, 2:6, 3:7] = 1  # a moving object in every frame
    masks[3] = 255  # a still image: no motion mask
    samples = [DataSample() for _ in range(4)]
    for sample, mask in zip(samples, masks):
        sample.set_field(mask, 'motion_label')
    losses = model([view], samples, mode='loss')
    with torch.no_grad():  # the paper's per-pixel cross-entropy, written out
        logits = model.head(model.backbone(view)[-1], (8, 8))
        log_p = logits.log_softmax(dim=1)
        known = masks != 255
        picked = log_p.gather(1, masks.clamp(max=1)[:, None])[:, 0]
        expected = -(picked * known).sum() / known.sum()
    assert losses['loss'].item() == pytest.approx(expected.item(), rel=1e-5)
    losses['loss'].backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    model.zero_grad()
    first, last = losses_before_and_after_adam(model, [view], samples, lr=1e-2)
    assert last < 0.8 * first, (first, last)
    with pytest.raises(ValueError, match="algorithm_keys=\\['motion_label'\\]"):
        model.loss([view], [DataSample() for _ in range(4)])
