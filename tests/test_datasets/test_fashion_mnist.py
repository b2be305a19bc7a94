import gzip

import numpy as np
import pytest

from mmssl.datasets import FashionMNIST, read_idx


def test_reads_the_debian_idx_files_directly(fashion_mnist_root):
    train = FashionMNIST(data_root=fashion_mnist_root, split='train')
    test = FashionMNIST(data_root=fashion_mnist_root, split='test')
    assert len(train) == 60000 and len(test) == 10000
    info = train.get_data_info(0)
    assert info['img'].shape == (28, 28, 3) and info['img'].dtype == np.uint8
    assert np.array_equal(info['img'][..., 0], info['img'][..., 2])  # grey repeated
    assert info['gt_label'] == 9  # the first training image is an ankle boot
    labels = test.get_gt_labels()
    assert np.bincount(labels).tolist() == [1000] * 10


def test_pipeline_gives_views_for_the_backbone(fashion_mnist_root):
    view = [dict(type='RandomResizedCrop', scale=32, backend='cv2')]
    dataset = FashionMNIST(data_root=fashion_mnist_root, split='test', indices=4,
                           pipeline=[dict(type='MultiView', num_views=2, transforms=[view]),
                                     dict(type='PackInputs')])
    sample = dataset[1]
    assert [tuple(v.shape) for v in sample['inputs']] == [(3, 32, 32), (3, 32, 32)]
    assert int(sample['data_samples'].gt_label) == dataset.get_data_info(1)['gt_label']


def test_one_channel_option(fashion_mnist_root):
    dataset = FashionMNIST(data_root=fashion_mnist_root, split='test', num_channels=1, indices=1)
    assert dataset.get_data_info(0)['img'].shape == (28, 28, 1)


def test_missing_folder_names_the_file_and_the_package(tmp_path):
    with pytest.raises(FileNotFoundError,
                       match=r'train-images-idx3-ubyte.gz.*dataset-fashion-mnist'):
        FashionMNIST(data_root=str(tmp_path), split='train')


def test_bad_split_and_corrupt_idx(tmp_path):
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        FashionMNIST(split='val')
    bad = tmp_path / 'x-idx3-ubyte.gz'
    with gzip.open(bad, 'wb') as f:
        f.write(b'\x00\x00\x08\x03' + (2).to_bytes(4, 'big') * 3 + b'\x01' * 5)
    with pytest.raises(ValueError, match=r'x-idx3-ubyte.gz.*declares shape \(2, 2, 2\)'):
        read_idx(str(bad))
    bad.write_bytes(b'not gzip at all')
    with pytest.raises(ValueError, match='cannot read IDX file'):
        read_idx(str(bad))
