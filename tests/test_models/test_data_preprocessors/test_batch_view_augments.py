import pytest
import torch

from mmssl.models import BatchColorJitter, BatchRandomResizedCrop, SelfSupDataPreprocessor


def _ramp(n: int = 4, size: int = 8) -> torch.Tensor:
    """(n, 3, size, size) images whose value is 10 * column + row + sample."""
    rows = torch.arange(size).view(size, 1).float()
    cols = torch.arange(size).view(1, size).float()
    base = 10 * cols + rows
    return torch.stack([(base + i).expand(3, size, size) for i in range(n)])


def test_full_crop_without_flip_is_the_identity():
    images = _ramp()
    crop = BatchRandomResizedCrop(8, scale=(1, 1), ratio=(1, 1), flip_prob=0)
    torch.testing.assert_close(crop(images), images, atol=1e-4, rtol=0)


def test_full_crop_with_flip_mirrors_the_columns():
    images = _ramp()
    crop = BatchRandomResizedCrop(8, scale=(1, 1), ratio=(1, 1), flip_prob=1)
    torch.testing.assert_close(crop(images), images.flip(-1), atol=1e-4, rtol=0)


def test_boxes_lie_inside_the_image_with_the_drawn_area():
    crop = BatchRandomResizedCrop(8, scale=(0.2, 0.5), ratio=(3 / 4, 4 / 3))
    torch.manual_seed(0)
    cx, cy, half_w, half_h = crop.sample_boxes(10000, torch.zeros(1)).unbind(1)
    assert ((cx.abs() + half_w) <= 1 + 1e-6).all() and ((cy.abs() + half_h) <= 1 + 1e-6).all()
    area = half_w * half_h  # fraction of the image's area (half-sizes of [-1, 1])
    assert area.min() >= 0.2 - 1e-6 and area.max() <= 0.5 + 1e-6
    aspect = half_w / half_h
    assert aspect.min() >= 3 / 4 - 1e-4 and aspect.max() <= 4 / 3 + 1e-4


def test_half_area_crop_samples_a_sub_range_of_the_ramp():
    images = _ramp(n=64, size=16)
    torch.manual_seed(0)
    out = BatchRandomResizedCrop(16, scale=(0.25, 0.25), ratio=(1, 1), flip_prob=0)(images)
    assert out.shape == images.shape
    # A square crop of a quarter of the area spans 8 of the 16 columns; the outer output
    # pixel centres lie 7.5 input columns apart (value 10 per column). Crops touching the
    # border clamp the outermost samples by at most half a pixel on each side.
    col_span = out[:, 0, 0, -1] - out[:, 0, 0, 0]
    assert ((col_span - 75).abs() <= 5 + 1e-3).all()
    assert (col_span - 75).abs().median() < 1e-3


def test_invalid_ranges_are_refused():
    with pytest.raises(ValueError, match=r'scale .* got \(0.0, 1.0\)'):
        BatchRandomResizedCrop(8, scale=(0.0, 1.0))
    with pytest.raises(ValueError, match='brightness must be in'):
        BatchColorJitter(brightness=1.5)


def test_color_jitter_follows_the_formula():
    torch.manual_seed(0)
    images = torch.rand(256, 3, 4, 4) * 100 + 50
    assert torch.equal(BatchColorJitter(prob=0.0)(images), images)
    bright = BatchColorJitter(brightness=0.4, contrast=0.0, prob=1.0)(images)
    ratio = (bright / images).flatten(1)
    assert torch.allclose(ratio, ratio[:, :1].expand_as(ratio), atol=1e-5)
    assert ratio.min() >= 0.6 - 1e-5 and ratio.max() <= 1.4 + 1e-5
    contrast = BatchColorJitter(brightness=0.0, contrast=0.2, prob=1.0)(images)
    torch.testing.assert_close(contrast.mean((1, 2, 3)), images.mean((1, 2, 3)))
    factor = (contrast - images.mean((1, 2, 3), keepdim=True)) / (
        images - images.mean((1, 2, 3), keepdim=True))
    assert factor.min() >= 0.8 - 1e-4 and factor.max() <= 1.2 + 1e-4


def test_preprocessor_makes_independent_views_on_the_device():
    pre = SelfSupDataPreprocessor(
        mean=[0, 0, 0], std=[1, 1, 1], to_rgb=False, num_views=3,
        device_views=[dict(type='BatchRandomResizedCrop', size=8, scale=(0.2, 1.0)),
                      dict(type='BatchColorJitter')])
    images = _ramp(n=5).to(torch.uint8)
    views = pre(dict(inputs=images), training=True)['inputs']
    assert len(views) == 3 and all(v.shape == (5, 3, 8, 8) for v in views)
    assert not torch.equal(views[0], views[1])
    # Evaluation only normalises.
    assert torch.equal(pre(dict(inputs=images))['inputs'], images.float())
    with pytest.raises(ValueError, match='drop MultiView from the pipeline'):
        pre(dict(inputs=[images, images]), training=True)
    with pytest.raises(ValueError, match='device_views needs num_views'):
        SelfSupDataPreprocessor(device_views=[dict(type='BatchColorJitter')])
