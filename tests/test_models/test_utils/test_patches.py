import torch

from mmssl.models.utils.patches import patchify, unpatchify


def test_patchify_raster_order_and_inverse():
    images = torch.randn(2, 3, 8, 12)
    patches = patchify(images, 4)
    assert patches.shape == (2, 6, 48)
    # patch 4 is row 1, column 1; pixels (p, p, C) as MAE
    expected = images[:, :, 4:8, 4:8].permute(0, 2, 3, 1).reshape(2, 48)
    assert torch.equal(patches[:, 4], expected)
    assert torch.equal(unpatchify(patches, 4, (2, 3)), images)
