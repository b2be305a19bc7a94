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
