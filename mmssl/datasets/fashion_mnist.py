import gzip
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmengine.dataset import BaseDataset

from mmssl.registry import DATASETS

# IDX type code 0x08: unsigned byte (the only type Fashion-MNIST uses).
_IDX_UBYTE = 0x08


def read_idx(path: str) -> np.ndarray:
    """An IDX file (optionally gzip-compressed) as a uint8 array of its declared shape.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: naming ``path``, if the header or the size is not a valid uint8 IDX.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'IDX file not found: {path}')
    opener = gzip.open if path.endswith('.gz') else open
    try:
        with opener(path, 'rb') as f:
            raw = f.read()
    except (OSError, EOFError) as err:
        raise ValueError(f'cannot read IDX file {path}: {err}') from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != _IDX_UBYTE:
        raise ValueError(f'{path} is not a uint8 IDX file (header {raw[:4].hex()})')
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise ValueError(f'{path}: IDX header declares shape {shape} ({expected} bytes) '
                         f'but the file holds {len(raw)} bytes')
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


@DATASETS.register_module()
class FashionMNIST(BaseDataset):
    """Fashion-MNIST read straight from its gzip IDX files (Debian's dataset-fashion-mnist).

    Each sample gives ``img``, a (28, 28, ``num_channels``) uint8 image (the grey
    channel repeated; pipelines resize it for the backbone) and ``gt_label``, an int that
    mmpretrain's ``PackInputs`` packs for its classifiers. Labels are for evaluation (kNN,
    linear probe, semi-supervised fine-tuning) only: no self-supervised algorithm reads
    them.

    Args:
        data_root: the folder holding ``{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz``.
        split: ``'train'`` (60,000 images) or ``'test'`` (10,000).
        num_channels: 3 for ImageNet backbones, 1 to keep the grey channel.
        pipeline, indices, test_mode, lazy_init: as mmengine's ``BaseDataset``
            (``indices`` takes a subset: an int for the first n, or a list).
        subset_file: keep only the samples this text file lists, one ``<index> <label>``
            per line (indices into ``split``; the label is checked against the data), in
            the file's order, before ``indices`` applies.
            ``tools/dataset_converters/make_label_subsets.py`` writes the 1 % and 10 %
            label subsets of the semi-supervised benchmarks this way.
    """

    METAINFO = dict(classes=('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
                             'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'))
    _PREFIX = dict(train='train', test='t10k')

    def __init__(self,
                 data_root: str = '/usr/share/datasets/fashion-mnist',
                 split: str = 'train',
                 num_channels: int = 3,
                 pipeline: Sequence = (),
                 indices: Optional[int | Sequence[int]] = None,
                 test_mode: bool = False,
                 lazy_init: bool = False,
                 subset_file: Optional[str] = None) -> None:
        if split not in self._PREFIX:
            raise ValueError(f"FashionMNIST split must be 'train' or 'test', got {split!r}")
        if num_channels not in (1, 3):
            raise ValueError(f'FashionMNIST num_channels must be 1 or 3, got {num_channels}')
        self.split = split
        self.num_channels = num_channels
        self.subset_file = subset_file
        self._images: Optional[np.ndarray] = None
        super().__init__(data_root=data_root, pipeline=list(pipeline), indices=indices,
                         test_mode=test_mode, lazy_init=lazy_init, serialize_data=False)

    def _idx_path(self, kind: str) -> str:
        name = f'{self._PREFIX[self.split]}-{kind}-ubyte.gz'
        path = osp.join(self.data_root, name)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'FashionMNIST: {path} not found; install Debian\'s dataset-fashion-mnist '
                f'(apt-get install dataset-fashion-mnist) or set data_root to the folder '
                f'holding {name}')
        return path

    def load_data_list(self) -> list[dict]:
        images = read_idx(self._idx_path('images-idx3'))
        labels = read_idx(self._idx_path('labels-idx1'))
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f'FashionMNIST {self.split}: images {images.shape} and labels '
                             f'{labels.shape} do not match')
        self._images = images
        if self.subset_file is not None:
            return [dict(img_index=i, gt_label=label)
                    for i, label in self._read_subset(self.subset_file, labels)]
        return [dict(img_index=i, gt_label=int(label)) for i, label in enumerate(labels)]

    def _read_subset(self, path: str, labels: np.ndarray) -> list[tuple[int, int]]:
        """The (index, label) pairs that ``path`` lists, checked against ``labels``.

        Raises:
            FileNotFoundError: naming ``path`` and the command that writes it.
            ValueError: naming ``path`` and the line, for a malformed line, an index out
                of range or repeated, or a label that is not the sample's.
        """
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'FashionMNIST: label subset file {path} not found; write it with '
                f'`python tools/dataset_converters/make_label_subsets.py fashion-mnist '
                f'--out-dir {osp.dirname(path) or "."}` (1 % and 10 % subsets, seed 0)')
        pairs, seen = [], set()
        with open(path) as f:
            for num, line in enumerate(f, 1):
                fields = line.split()
                if not fields:
                    continue
                try:
                    index, label = (int(field) for field in fields)
                except ValueError:
                    raise ValueError(f"{path}:{num}: expected '<index> <label>', "
                                     f'got {line.strip()!r}') from None
                if not 0 <= index < len(labels) or index in seen:
                    raise ValueError(f'{path}:{num}: index {index} is out of range for the '
                                     f'{len(labels)} {self.split} images or repeated')
                if label != labels[index]:
                    raise ValueError(f'{path}:{num}: image {index} of the {self.split} split '
                                     f'has label {labels[index]}, the file says {label}')
                seen.add(index)
                pairs.append((index, label))
        if not pairs:
            raise ValueError(f'FashionMNIST: label subset file {path} lists no samples')
        return pairs

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        img = self._images[info['img_index']][..., None]
        if self.num_channels == 3:
            img = np.repeat(img, 3, axis=2)
        else:
            img = img.copy()
        info.update(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2])
        return info

    def get_gt_labels(self) -> np.ndarray:
        """(N,) the labels of the samples, in order."""
        return np.array([self.get_data_info(i)['gt_label'] for i in range(len(self))])
