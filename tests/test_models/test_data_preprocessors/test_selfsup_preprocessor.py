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
