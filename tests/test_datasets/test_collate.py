import pytest
import torch
from mmengine.registry import FUNCTIONS

from mmssl.datasets import pad_collate


def test_pads_to_the_largest_image_and_records_each_size():
    images = [torch.full((3, 4, 6), 1, dtype=torch.uint8), torch.full((3, 5, 2), 2,
                                                                      dtype=torch.uint8)]
    batch = pad_collate([dict(inputs=img, data_samples=f's{i}') for i, img in enumerate(images)])
    assert batch['inputs'].shape == (2, 3, 5, 6) and batch['inputs'].dtype == torch.uint8
    assert batch['image_sizes'].tolist() == [[4, 6], [5, 2]]
    assert batch['data_samples'] == ['s0', 's1']
    assert (batch['inputs'][0, :, :4, :6] == 1).all() and batch['inputs'][0, :, 4:].sum() == 0
    assert (batch['inputs'][1, :, :5, :2] == 2).all() and batch['inputs'][1, :, :, 2:].sum() == 0


def test_is_found_by_mmengine_under_its_scope_and_refuses_views():
    assert FUNCTIONS.get('mmssl.pad_collate') is pad_collate
    with pytest.raises(ValueError, match='one \\(C, H, W\\) image tensor per sample'):
        pad_collate([dict(inputs=[torch.zeros(3, 2, 2)] * 2)])
