import numpy as np
import pytest

from mmssl.datasets.transforms import ResizeToFit


def test_shrinks_the_longer_side_to_the_bound_and_keeps_smaller_images():
    resize = ResizeToFit(max_size=100)
    big = resize(dict(img=np.zeros((300, 150, 3), np.uint8)))
    assert big['img'].shape == (100, 50, 3) and big['img_shape'] == (100, 50)
    small = np.zeros((80, 60, 3), np.uint8)
    assert resize(dict(img=small))['img'] is small


def test_bound_must_be_positive():
    with pytest.raises(ValueError, match='max_size must be >= 1, got 0'):
        ResizeToFit(0)
