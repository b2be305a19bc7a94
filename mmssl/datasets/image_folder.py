import os
import os.path as osp
from typing import Optional, Sequence

from mmengine.dataset import BaseDataset

from mmssl.registry import DATASETS

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


def find_files(folder: str, extensions: Sequence[str]) -> list[str]:
    """The files under ``folder`` (recursive, links followed, sorted) whose name ends in
    one of ``extensions`` (lower case; the names are compared case-insensitively)."""
    found = []
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs.sort()
        found += [osp.join(root, name) for name in sorted(files)
                  if name.lower().endswith(tuple(extensions))]
    return found


@DATASETS.register_module()
class ImageFolder(BaseDataset):
    """Unlabeled images from a folder: ImageNet's class-folder layout or a flat folder.

    Samples give ``img_path`` only; a pipeline decodes them (``LoadImageFromFile``).
    Without ``ann_file`` the folder is scanned recursively (links followed) for the
    given extensions, in sorted order; with ``ann_file``, a text file whose lines start
    with a path relative to ``data_root`` (mmpretrain's ``meta/train.txt`` works), no scan
    is made. With ``mask_root`` (the frames of videos and their motion masks, as
    ``tools/dataset_converters/mine_motion_masks.py`` writes them) each sample also gives
    ``mask_path``: the file of the same relative path under ``mask_root``, with
    ``mask_suffix`` for its extension (``LoadMotionMask`` reads it).

    Args:
        data_root: the folder of images, e.g. ``data/imagenet/train``.
        ann_file: optional list of images, relative to ``data_root``.
        extensions: the file endings counted as images (case-insensitive).
        mask_root: optional folder of per-image masks, laid out like ``data_root``.
        mask_suffix: the masks' extension.
        pipeline, indices, test_mode, lazy_init: as mmengine's ``BaseDataset``.

    Raises:
        FileNotFoundError: the folder does not exist, or holds no image.
    """

    def __init__(self,
                 data_root: str,
                 ann_file: str = '',
                 extensions: Sequence[str] = IMG_EXTENSIONS,
                 mask_root: str = '',
                 mask_suffix: str = '.png',
                 pipeline: Sequence = (),
                 indices: Optional[int | Sequence[int]] = None,
                 test_mode: bool = False,
                 lazy_init: bool = False) -> None:
        self.extensions = tuple(ext.lower() for ext in extensions)
        self.mask_root, self.mask_suffix = mask_root, mask_suffix
        super().__init__(ann_file=ann_file, data_root=data_root, pipeline=list(pipeline),
                         indices=indices, test_mode=test_mode, lazy_init=lazy_init)

    def _listed(self) -> list[str]:
        with open(self.ann_file) as f:
            rel = [line.split()[0] for line in f if line.strip()]
        return [osp.join(self.data_root, path) for path in rel]

    def load_data_list(self) -> list[dict]:
        if not osp.isdir(self.data_root):
            raise FileNotFoundError(f'ImageFolder: data_root {self.data_root!r} is not a folder')
        if self.ann_file and not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'ImageFolder: ann_file {self.ann_file!r} not found')
        paths = (self._listed() if self.ann_file
                 else find_files(self.data_root, self.extensions))
        if not paths:
            source = self.ann_file or self.data_root
            raise FileNotFoundError(
                f'ImageFolder: no images with extensions {self.extensions} in {source!r}')
        if not self.mask_root:
            return [dict(img_path=path) for path in paths]
        if not osp.isdir(self.mask_root):
            raise FileNotFoundError(f'ImageFolder: mask_root {self.mask_root!r} is not a folder')
        return [dict(img_path=path, mask_path=osp.join(
            self.mask_root, osp.splitext(osp.relpath(path, self.data_root))[0] + self.mask_suffix))
            for path in paths]
