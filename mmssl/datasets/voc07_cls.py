import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmengine.dataset import BaseDataset

from mmssl.registry import DATASETS

VOC_CLASSES = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair',
               'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant',
               'sheep', 'sofa', 'train', 'tvmonitor')


@DATASETS.register_module()
class VOC07Classification(BaseDataset):
    """PASCAL VOC 2007 image classification as the VOC07 SVM benchmark reads it.

    Labels come from the per-class files ``{data_root}/ImageSets/Main/{cls}_{split}.txt``
    (one ``<image id> <label>`` line per image), images from
    ``{data_root}/JPEGImages/{id}.jpg``. Images are in sorted id order, classes in the
    order of ``metainfo['classes']`` (VOC's 20, alphabetical), as in Goyal et al.'s
    ``create_voc_data_files.py``.

    Each sample gives ``img_path`` (pipelines start with ``LoadImageFromFile``) and
    ``gt_label``, a (num_classes,) int8 vector with VOC's values: **1 present, -1
    absent, 0 difficult** (not mmpretrain's list of positive indices). The SVM benchmark
    (:func:`mmssl.evaluation.functional.svm_classification`) reads this convention.

    Args:
        data_root: the ``VOC2007`` folder (holding ``ImageSets`` and ``JPEGImages``).
        split: ``'trainval'`` (5,011 images), ``'test'`` (4,952), ``'train'`` or ``'val'``.
        pipeline, indices, test_mode, lazy_init, metainfo: as mmengine's ``BaseDataset``
            (``metainfo=dict(classes=[...])`` reads other classes' files).
    """

    METAINFO = dict(classes=VOC_CLASSES)
    SPLITS = ('trainval', 'test', 'train', 'val')

    def __init__(self,
                 data_root: str = 'data/VOCdevkit/VOC2007',
                 split: str = 'trainval',
                 pipeline: Sequence = (),
                 indices: Optional[int | Sequence[int]] = None,
                 test_mode: bool = True,
                 lazy_init: bool = False,
                 metainfo: Optional[dict] = None) -> None:
        if split not in self.SPLITS:
            raise ValueError(f'VOC07Classification split must be one of {self.SPLITS}, '
                             f'got {split!r}')
        self.split = split
        super().__init__(data_root=data_root, pipeline=list(pipeline), indices=indices,
                         test_mode=test_mode, lazy_init=lazy_init, metainfo=metainfo)

    def _label_file(self, cls: str) -> str:
        return osp.join(self.data_root, 'ImageSets', 'Main', f'{cls}_{self.split}.txt')

    def load_data_list(self) -> list[dict]:
        classes = self.metainfo['classes']
        labels: dict[str, np.ndarray] = {}
        for c, cls in enumerate(classes):
            path = self._label_file(cls)
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'VOC07Classification: {path} not found; data_root should be the '
                    f'VOC2007 folder holding ImageSets/Main/<class>_{self.split}.txt')
            with open(path) as f:
                for number, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    fields = line.split()
                    if len(fields) != 2 or fields[1] not in ('1', '-1', '0'):
                        raise ValueError(f'{path}:{number}: expected "<image id> <1|-1|0>", '
                                         f'got {line.strip()!r}')
                    row = labels.setdefault(fields[0], np.full(len(classes), 2, np.int8))
                    row[c] = int(fields[1])
        unlabelled = {img: [classes[c] for c in np.flatnonzero(row == 2)]
                      for img, row in labels.items() if (row == 2).any()}
        if unlabelled:
            img, missing = next(iter(unlabelled.items()))
            raise ValueError(f'VOC07Classification {self.split}: {len(unlabelled)} images lack '
                             f'a label for some class (e.g. {img} in the files of {missing})')
        return [dict(img_path=osp.join(self.data_root, 'JPEGImages', f'{img}.jpg'),
                     img_id=img, gt_label=labels[img]) for img in sorted(labels)]

    def get_gt_labels(self) -> np.ndarray:
        """(N, num_classes) int8 labels in {1, -1, 0}, in sample order."""
        return np.stack([self.get_data_info(i)['gt_label'] for i in range(len(self))])
