from typing import Sequence

import torch
from mmengine.dataset import pseudo_collate

from mmssl.registry import FUNCTIONS


@FUNCTIONS.register_module()
def pad_collate(data_batch: Sequence[dict]) -> dict:
    """Collate images of different sizes into one zero-padded uint8 batch.

    For device-side augmentation: each sample's ``inputs`` is one decoded image
    (C, h_i, w_i). The images are copied to the top-left of a (N, C, max h, max w)
    canvas and their sizes go to ``image_sizes`` (N, 2) int64 [h, w], which the data
    preprocessor's random-resized crop reads so that no box reaches into the padding.
    Other keys are collated as mmengine's ``pseudo_collate`` does. In a config:
    ``collate_fn=dict(type='mmssl.pad_collate')``.
    """
    images = [sample['inputs'] for sample in data_batch]
    if not all(isinstance(img, torch.Tensor) and img.ndim == 3 for img in images):
        raise ValueError('pad_collate expects one (C, H, W) image tensor per sample in '
                         "'inputs' (a pipeline ending in PackInputs without MultiView)")
    channels = {img.shape[0] for img in images}
    if len(channels) != 1:
        raise ValueError(f'pad_collate: images with different channel counts {channels}')
    sizes = torch.tensor([img.shape[1:] for img in images], dtype=torch.long)
    height, width = sizes.max(dim=0).values.tolist()
    batch = images[0].new_zeros(len(images), channels.pop(), height, width)
    for canvas, img in zip(batch, images):
        canvas[:, :img.shape[1], :img.shape[2]] = img
    rest = pseudo_collate([{k: v for k, v in sample.items() if k != 'inputs'}
                           for sample in data_batch])
    return dict(rest, inputs=batch, image_sizes=sizes)
