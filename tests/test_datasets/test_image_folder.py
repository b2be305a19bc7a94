import os

import cv2
import numpy as np
import pytest

from mmssl.datasets import ImageFolder

PIPELINE = [dict(type='LoadImageFromFile'),
            dict(type='MultiView', num_views=2,
                 transforms=[[dict(type='RandomResizedCrop', scale=16, backend='cv2')]]),
            dict(type='PackInputs')]


def _write_images(root, layout):
    rng = np.random.default_rng(0)
    paths = []
    for rel in layout:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        img = rng.integers(0, 256, (20 + len(paths), 24, 3), dtype=np.uint8)
        assert cv2.imwrite(str(path), img)
        paths.append(str(path))
    return paths


def test_imagenet_layout_with_real_jpeg_and_png(tmp_path):
    paths = _write_images(tmp_path, ['n01/a.JPEG', 'n01/b.png', 'n02/c.jpg', 'n02/notes.txt.jpg'])
    (tmp_path / 'n02' / 'readme.txt').write_text('not an image')
    dataset = ImageFolder(data_root=str(tmp_path), pipeline=PIPELINE)
    assert [d['img_path'] for d in dataset.load_data_list()] == sorted(paths)
    sample = dataset[0]
    assert [tuple(v.shape) for v in sample['inputs']] == [(3, 16, 16)] * 2
    decoded = cv2.imread(paths[0])
    assert decoded.shape == (20, 24, 3)  # the real decoder read the real file


def test_flat_folder_and_ann_file(tmp_path):
    _write_images(tmp_path, ['x.jpg', 'y.png', 'z.jpeg'])
    (tmp_path / 'list.txt').write_text('y.png 3\nx.jpg 1\n')
    assert len(ImageFolder(data_root=str(tmp_path))) == 3
    listed = ImageFolder(data_root=str(tmp_path), ann_file='list.txt')
    assert [os.path.basename(d['img_path']) for d in listed.load_data_list()] == ['y.png', 'x.jpg']


def test_folder_without_images_is_a_clear_error(tmp_path):
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'sub' / 'a.txt').write_text('x')
    with pytest.raises(FileNotFoundError, match=r'no images with extensions.*' + str(tmp_path)):
        ImageFolder(data_root=str(tmp_path))
    with pytest.raises(FileNotFoundError, match='is not a folder'):
        ImageFolder(data_root=str(tmp_path / 'missing'))


def test_missing_and_corrupt_image_files_are_named(tmp_path):
    paths = _write_images(tmp_path, ['a.jpg', 'b.jpg', 'c.png'])
    dataset = ImageFolder(data_root=str(tmp_path), pipeline=PIPELINE)
    os.remove(paths[0])
    with pytest.raises(Exception, match='a.jpg'):
        dataset[0]
    with open(paths[1], 'wb') as f:
        f.write(b'\xff\xd8 this is not a jpeg')
    with pytest.raises(Exception, match='b.jpg'):
        dataset[1]
    open(paths[2], 'wb').close()  # zero bytes
    with pytest.raises(Exception, match='c.png'):
        dataset[2]
