"""mmssl/apis/images.py: every form of images a FeatureModel takes, prepared by one
pipeline (the config's test pipeline)."""
import cv2
import numpy as np
import pytest
import torch

from mmssl.apis import ImageList, build_feature_model
from mmssl.datasets import FashionMNIST
from tests._helpers import DEMO_CONFIG


@pytest.fixture(scope='module')
def images(fashion_mnist_root) -> np.ndarray:
    """(4, 28, 28, 3) uint8: the first Fashion-MNIST test images, as the dataset gives them."""
    return np.stack([s['img'] for s in FashionMNIST(fashion_mnist_root, 'test', indices=4)])


def test_every_form_of_the_same_pixels_gives_the_same_features(images, tmp_path):
    torch.manual_seed(0)
    model = build_feature_model(DEMO_CONFIG, None, device='cpu')
    ref = model(images)  # NHWC uint8
    assert ref.shape == (4, 128)
    nchw = torch.from_numpy(images).permute(0, 3, 1, 2)
    for form in (nchw, nchw.numpy(), images.astype(np.float32), list(images),
                 [image for image in nchw]):
        assert torch.allclose(model(form), ref, atol=1e-5)
    assert torch.allclose(model(images[1]), ref[1:2], atol=1e-5)  # one HWC image
    assert torch.allclose(model(images, batch_size=3), ref, atol=1e-5)  # eval-mode BN
    paths = []
    for num, image in enumerate(images):
        paths.append(str(tmp_path / f'{num}.png'))
        cv2.imwrite(paths[-1], image)
    assert torch.allclose(model(paths), ref, atol=1e-5)
    assert torch.allclose(model(str(tmp_path)), ref, atol=1e-5)  # the folder, sorted


def test_arrays_and_files_go_through_the_configs_pipeline(images, tmp_path):
    """An ImageNet test pipeline (decode, resize 256, crop 224) prepares arrays and files
    alike: the decoding step is skipped for arrays."""
    pipeline = [dict(type='LoadImageFromFile'),
                dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
                dict(type='CenterCrop', crop_size=224), dict(type='PackInputs')]
    cv2.imwrite(str(tmp_path / 'a.png'), images[0])
    from_array, from_file = ImageList([images[0], str(tmp_path / 'a.png')], pipeline)
    assert from_array['inputs'].shape == (3, 224, 224)
    assert torch.equal(from_array['inputs'], from_file['inputs'])


def test_images_that_cannot_be_read_are_named(images, tmp_path):
    model = build_feature_model(DEMO_CONFIG, None, device='cpu')
    with pytest.raises(ValueError, match=r'different sizes .*\(3, 28, 28\) and \(3, 32, 32\)'):
        model([images[0], np.zeros((32, 32, 3), np.uint8)])
    with pytest.raises(ValueError, match=r'shape \(5, 28, 28\) has no channel axis'):
        model(np.zeros((5, 28, 28)))
    with pytest.raises(FileNotFoundError, match=f'image file not found: {tmp_path}/nope.png'):
        model([str(tmp_path / 'nope.png')])
    with pytest.raises(FileNotFoundError, match='no image with extensions'):
        model(str(tmp_path))
