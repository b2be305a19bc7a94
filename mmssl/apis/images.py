"""Images given by hand (arrays, tensors, files, a folder) as a dataset for a config's test
pipeline: what :class:`~mmssl.apis.FeatureModel` and :func:`~mmssl.apis.extract_features`
are called on.

Arrays hold pixel values 0-255 (uint8 or float), colour in BGR order as OpenCV reads them
and as the config's datasets give them (its data preprocessor converts them); files are
decoded by ``LoadImageFromFile``. The config's pipeline then resizes/crops and packs them.
"""
import os.path as osp
from typing import Sequence, Union

import numpy as np
import torch
from mmengine.dataset import Compose, default_collate
from torch import Tensor

from mmssl.datasets.image_folder import IMG_EXTENSIONS, find_files
from mmssl.registry import TRANSFORMS

Image = Union[str, np.ndarray, Tensor]
Images = Union[Image, Sequence[Image]]
CHANNELS = (1, 3)


def _hwc(image: np.ndarray) -> np.ndarray:
    """One (H, W, C) image from an (H, W, C) or, where only the first axis can be the
    channels, a (C, H, W) array."""
    if image.shape[-1] in CHANNELS:
        return image
    if image.shape[0] in CHANNELS:
        return image.transpose(1, 2, 0)
    raise ValueError(f'an image of shape {tuple(image.shape)} has no channel axis of '
                     f'size 1 or 3 (give HWC or CHW images, NCHW or NHWC batches)')


def as_image_list(images: Images) -> list[Union[str, np.ndarray]]:
    """Paths and (H, W, C) arrays, one per image, from what a user gives.

    ``images``: a folder (its images, recursive, sorted), an image file, a 4-D batch
    (NCHW, or NHWC where only the last axis can be the channels), one 3-D image (HWC, or
    CHW), or a list of files and 3-D images. Tensors are moved to the CPU.

    Raises:
        FileNotFoundError: naming a path that is neither a file nor a folder of images.
        ValueError: naming the shape of an array that is not an image or a batch.
    """
    if isinstance(images, str):
        if osp.isdir(images):
            found = find_files(images, IMG_EXTENSIONS)
            if not found:
                raise FileNotFoundError(f'no image with extensions {IMG_EXTENSIONS} in '
                                        f'{images!r}')
            return found
        images = [images]
    if isinstance(images, (np.ndarray, Tensor)):
        array = images.detach().cpu().numpy() if isinstance(images, Tensor) else images
        if array.ndim == 4:
            nchw = array.shape[1] in CHANNELS or array.shape[-1] not in CHANNELS
            return list(array.transpose(0, 2, 3, 1) if nchw else array)
        images = [array]
    result = []
    for image in images:
        if isinstance(image, str):
            if not osp.isfile(image):
                raise FileNotFoundError(f'image file not found: {image}')
            result.append(image)
            continue
        array = image.detach().cpu().numpy() if isinstance(image, Tensor) else image
        if not isinstance(array, np.ndarray) or array.ndim != 3:
            raise ValueError(f'an image must be a path or a 3-D array, got '
                             f'{getattr(array, "shape", type(array).__name__)}')
        result.append(_hwc(array))
    return result


def _is_loader(transform: dict) -> bool:
    return str(transform.get('type', '')).split('.')[-1].startswith('LoadImageFrom')


class ImageList(torch.utils.data.Dataset):
    """Images (paths or (H, W, C) arrays) through a test pipeline, packed as a dataset's.

    Args:
        images: anything :func:`as_image_list` takes.
        pipeline: transform configs, e.g. a config's test pipeline. A leading
            ``LoadImageFromFile`` decodes the paths (one is added if the pipeline has none)
            and is skipped for arrays.
    """

    def __init__(self, images: Images, pipeline: Sequence[dict]) -> None:
        self.images = as_image_list(images)
        pipeline = [dict(t) for t in pipeline]
        loader = pipeline.pop(0) if pipeline and _is_loader(pipeline[0]) else None
        self.load = TRANSFORMS.build(loader or dict(type='LoadImageFromFile'))
        self.transform = Compose([TRANSFORMS.build(t) for t in pipeline])

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict:
        image = self.images[index]
        if isinstance(image, str):
            results = self.load(dict(img_path=image))
        else:
            results = dict(img=image, img_shape=image.shape[:2], ori_shape=image.shape[:2])
        packed = None if results is None else self.transform(results)
        if packed is None:
            name = image if isinstance(image, str) else f'image {index}'
            raise ValueError(f'the test pipeline dropped {name}')
        return packed


def collate_images(samples: Sequence[dict]) -> dict:
    """mmengine's ``default_collate``, after checking that the images have one size.

    Raises:
        ValueError: naming two sizes, if the pipeline does not resize to one.
    """
    shapes = sorted({tuple(sample['inputs'].shape) for sample in samples})
    if len(shapes) > 1:
        raise ValueError(f'images of different sizes in one batch ({shapes[0]} and '
                         f'{shapes[1]}, CHW): the config\'s test pipeline does not resize '
                         f'them; give images of one size or a pipeline that resizes')
    return default_collate(samples)
