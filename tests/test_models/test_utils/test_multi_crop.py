import pytest
import torch
from torch import nn

from mmssl.models.utils.multi_crop import forward_by_resolution, resolution_runs


def _views(*sizes, batch=3):
    gen = torch.Generator().manual_seed(0)
    return [torch.randn(batch, 2, size, size, generator=gen) for size in sizes]


def test_runs_are_the_consecutive_views_of_one_size():
    assert resolution_runs(_views(8, 8, 4, 4, 4)) == [(0, 2), (2, 5)]
    assert resolution_runs(_views(8)) == [(0, 1)]
    # Runs are consecutive: a size that comes back starts a new run.
    assert resolution_runs(_views(8, 4, 8)) == [(0, 1), (1, 2), (2, 3)]


def test_one_call_per_run_on_the_concatenated_views():
    views = _views(8, 8, 4, 4, 4)
    calls = []

    def fn(x):
        calls.append(tuple(x.shape))
        return x.mean(dim=(2, 3))

    outputs = forward_by_resolution(fn, views)
    assert calls == [(6, 2, 8, 8), (9, 2, 4, 4)]
    # Row blocks follow the views, N rows each.
    expected = torch.cat([view.mean(dim=(2, 3)) for view in views])
    torch.testing.assert_close(torch.cat(outputs), expected)


def test_a_backbone_gives_per_run_outputs_that_a_multi_crop_neck_reads():
    backbone = nn.Sequential(nn.Conv2d(2, 5, 3, padding=1), nn.ReLU())
    views = _views(8, 8, 4)
    outputs = forward_by_resolution(lambda x: (backbone(x),), views)
    assert [out[0].shape for out in outputs] == [(6, 5, 8, 8), (3, 5, 4, 4)]
    torch.testing.assert_close(outputs[0][0][3:], backbone(views[1]))


def test_views_of_different_batches_are_refused():
    with pytest.raises(ValueError, match='same N'):
        resolution_runs([torch.zeros(2, 3, 4, 4), torch.zeros(3, 3, 4, 4)])
    with pytest.raises(ValueError, match='at least one view'):
        resolution_runs([])
