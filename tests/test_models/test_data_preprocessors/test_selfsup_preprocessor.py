import pytest
import torch

from mmssl.models import SelfSupDataPreprocessor


def test_normalises_each_view_and_reverses_channels():
    pre = SelfSupDataPreprocessor(mean=[1, 2, 3], std=[2, 2, 2], to_rgb=True, num_views=2)
    bgr = torch.stack([torch.full((2, 4, 4), v, dtype=torch.uint8) for v in (30, 20, 10)], 1)
    out = pre(dict(inputs=[bgr, bgr.clone()], data_samples=None), training=True)
    assert len(out['inputs']) == 2
    view = out['inputs'][0]
    assert view.dtype == torch.float32 and view.shape == (2, 3, 4, 4)
    assert view[0, :, 0, 0].tolist() == [(10 - 1) / 2, (20 - 2) / 2, (30 - 3) / 2]


def test_copies_to_the_device_without_blocking_by_default(monkeypatch):
    # mmengine's cast_data passes the flag to every tensor's .to(); non-blocking lets a GPU
    # step's host side run on while a pinned batch is copied.
    seen = []
    to = torch.Tensor.to

    def recording_to(tensor, *args, **kwargs):
        seen.append(kwargs.get('non_blocking'))
        return to(tensor, *args, **kwargs)
    monkeypatch.setattr(torch.Tensor, 'to', recording_to)
    SelfSupDataPreprocessor()(dict(inputs=torch.zeros(1, 3, 2, 2, dtype=torch.uint8)))
    SelfSupDataPreprocessor(non_blocking=False)(dict(inputs=torch.zeros(1, 3, 2, 2)))
    assert seen == [True, False]


def test_single_tensor_input_for_evaluation():
    pre = SelfSupDataPreprocessor(mean=[0, 0, 0], std=[1, 1, 1], to_rgb=False)
    out = pre(dict(inputs=torch.ones(3, 3, 2, 2, dtype=torch.uint8)))
    assert torch.equal(out['inputs'], torch.ones(3, 3, 2, 2))


def test_wrong_view_count_and_channels_are_refused():
    pre = SelfSupDataPreprocessor(num_views=2)
    with pytest.raises(ValueError, match='expects 2 views per image, the pipeline gave 1'):
        pre(dict(inputs=[torch.zeros(1, 3, 2, 2)]), training=True)
    with pytest.raises(ValueError, match=r'\(N, 3, H, W\), got \(1, 1, 2, 2\)'):
        pre(dict(inputs=torch.zeros(1, 1, 2, 2)))


def _crop(size):
    return [dict(type='BatchRandomResizedCrop', size=size, scale=(0.2, 1.0))]


def test_view_groups_make_views_of_several_sizes_group_by_group():
    pre = SelfSupDataPreprocessor(
        mean=[0, 0, 0], std=[1, 1, 1], to_rgb=False,
        view_groups=[dict(num_views=2, transforms=_crop(8)),
                     dict(num_views=3, transforms=_crop(4))])
    assert pre.num_views == 5
    images = torch.randint(0, 255, (6, 3, 10, 10), dtype=torch.uint8)
    views = pre(dict(inputs=images), training=True)['inputs']
    assert [tuple(v.shape) for v in views] == [(6, 3, 8, 8)] * 2 + [(6, 3, 4, 4)] * 3
    assert not torch.equal(views[2], views[3])  # each view is a fresh draw
    # Evaluation only normalises the single batch.
    assert torch.equal(pre(dict(inputs=images))['inputs'], images.float())


def test_view_group_mistakes_are_named():
    groups = [dict(num_views=2, transforms=_crop(8))]
    with pytest.raises(ValueError, match='device_views .* or view_groups, not both'):
        SelfSupDataPreprocessor(num_views=2, device_views=_crop(8), view_groups=groups)
    with pytest.raises(ValueError, match='num_views=3 differs from the 2 views'):
        SelfSupDataPreprocessor(num_views=3, view_groups=groups)
    with pytest.raises(ValueError, match=r'dict\(num_views=n >= 1'):
        SelfSupDataPreprocessor(view_groups=[dict(views=2, transforms=[])])


def test_multi_view_pipeline_with_two_sizes_through_pack_and_collate():
    """The CPU form of multi-crop: MultiView groups -> PackInputs -> default_collate."""
    import numpy as np
    from mmengine.dataset import Compose, default_collate

    pipeline = Compose([
        dict(type='MultiView', num_views=[2, 3],
             transforms=[[dict(type='RandomResizedCrop', scale=16, crop_ratio_range=(0.14, 1.))],
                         [dict(type='RandomResizedCrop', scale=8,
                               crop_ratio_range=(0.05, 0.14))]]),
        dict(type='PackInputs'),
    ])
    rng = np.random.default_rng(0)
    batch = default_collate([pipeline(dict(img=rng.integers(0, 255, (30, 20, 3), np.uint8)))
                             for _ in range(4)])
    views = SelfSupDataPreprocessor(num_views=5)(batch, training=True)['inputs']
    assert [tuple(v.shape) for v in views] == [(4, 3, 16, 16)] * 2 + [(4, 3, 8, 8)] * 3
    assert all(v.dtype == torch.float32 for v in views)


MOCOV2_VIEWS = [
    dict(type='BatchRandomResizedCrop', size=16, scale=(0.2, 1.0)),
    dict(type='BatchColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1,
         prob=0.8),
    dict(type='BatchRandomGrayscale', prob=0.2),
    dict(type='BatchGaussianBlur', kernel_size=5, sigma=(0.1, 2.0), prob=0.5),
    dict(type='BatchRandomFlip', prob=0.5),
]


def _device_views(seed=0, **kwargs):
    return SelfSupDataPreprocessor(num_views=2, device_views=MOCOV2_VIEWS, seed=seed, **kwargs)


def test_same_seed_same_views_other_seed_other_views():
    images = torch.randint(0, 255, (4, 3, 20, 24), dtype=torch.uint8)
    views = [_device_views(seed)(dict(inputs=images), training=True)['inputs']
             for seed in (0, 0, 1)]
    assert all(torch.equal(a, b) for a, b in zip(views[0], views[1]))
    assert not torch.equal(views[0][0], views[2][0])
    assert not torch.equal(views[0][0], views[0][1])  # each view a fresh draw


def test_padded_batches_of_different_sizes_never_read_the_padding():
    from mmssl.datasets import pad_collate
    sizes = [(20, 12), (9, 30), (16, 16)]
    batch = pad_collate([dict(inputs=torch.full((3, h, w), 100, dtype=torch.uint8))
                         for h, w in sizes])
    pre = SelfSupDataPreprocessor(mean=[0, 0, 0], std=[1, 1, 1], num_views=3,
                                  device_views=_crop(8) + [dict(type='BatchRandomFlip')],
                                  seed=0)
    for view in pre(batch, training=True)['inputs']:  # padding is 0, the images 100
        assert view.shape == (3, 3, 8, 8)
        torch.testing.assert_close(view, torch.full_like(view, 100.0))
    flip_first = SelfSupDataPreprocessor(num_views=1, device_views=[dict(type='BatchRandomFlip')])
    with pytest.raises(ValueError, match='need a BatchRandomResizedCrop as the first transform'):
        flip_first(batch, training=True)


def test_a_training_step_equals_one_whose_views_were_made_one_image_at_a_time():
    """MoCo v2 views made for the batch on the device (seed 0) vs the same parameters
    applied image by image: same views, same loss, same weights after the step."""
    import copy

    from mmengine.optim import OptimWrapper

    from mmssl.registry import MODELS
    from tests._helpers import resnet18
    model = MODELS.build(dict(
        type='MoCo', backbone=resnet18(), ema_momentum=0.99, bn_splits=1,
        neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=32, out_channels=16),
        head=dict(type='InfoNCEHead', temperature=0.2),
        dictionary=dict(type='QueueKeys', queue_length=16, dim=16),
        data_preprocessor=dict(type='SelfSupDataPreprocessor', num_views=2,
                               device_views=MOCOV2_VIEWS, seed=0)))
    model.init_weights()
    twin = copy.deepcopy(model)
    images = torch.randint(0, 255, (4, 3, 24, 20), dtype=torch.uint8)

    def optim(m):
        return OptimWrapper(torch.optim.SGD(m.parameters(), lr=0.1))
    batched_log = model.train_step(dict(inputs=images), optim(model))

    # The twin draws the same parameters from its own generator, seeded alike, and applies
    # them to one image at a time.
    pre = twin.data_preprocessor
    rgb = images.float().flip(1)
    sizes = torch.tensor([[24, 20]] * 4)
    params = pre.draw_view_params(4, sizes, rgb.device)
    per_image = [pre.apply_view_params(
        rgb[i:i + 1], [[{k: v[i:i + 1] for k, v in p.items()} for p in view] for view in params],
        sizes[i:i + 1]) for i in range(4)]
    views = [torch.cat([one[v] for one in per_image]) for v in range(2)]
    expected_views = model.data_preprocessor.__class__(
        num_views=2, device_views=MOCOV2_VIEWS, seed=0)(dict(inputs=images), True)['inputs']
    for got, expected in zip(views, expected_views):
        torch.testing.assert_close(got, expected, atol=1e-4, rtol=0)
    optim_twin = optim(twin)
    losses = twin(views, None, mode='loss')
    loss, log = twin.parse_losses(losses)
    optim_twin.update_params(loss)
    torch.testing.assert_close(log['loss'], batched_log['loss'], atol=1e-5, rtol=0)
    for (name, a), b in zip(model.named_parameters(), twin.parameters()):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0, msg=name)


def test_a_model_with_device_views_moves_and_initialises():
    """The ops must not shadow nn.Module.apply, which .to() and init_weights() call."""
    from mmssl.registry import MODELS
    from tests._helpers import resnet18
    model = MODELS.build(dict(
        type='SimCLR', backbone=resnet18(),
        neck=dict(type='NonLinearNeck', in_channels=512, hid_channels=16, out_channels=8,
                  num_layers=2, with_avg_pool=True),
        head=dict(type='NTXentHead', temperature=0.1),
        data_preprocessor=dict(type='SelfSupDataPreprocessor', num_views=2,
                               device_views=MOCOV2_VIEWS)))
    model.init_weights()
    model.to('cpu').apply(lambda module: None)
