import pytest
import torch

from mmssl.models.memories import (FIFOQueue, check_neck_output_dim, neck_output_dim,
                                   rename_state_prefixes)
from mmssl.registry import MODELS


def test_starts_with_unit_vectors_and_pointer_zero():
    queue = FIFOQueue(dim=4, length=8)
    assert queue.keys.shape == (8, 4)
    assert torch.allclose(queue.keys.norm(dim=1), torch.ones(8))
    assert int(queue.ptr) == 0


def test_fifo_order_and_wrap_around():
    queue = FIFOQueue(dim=2, length=6)
    batches = [torch.full((2, 2), float(i)) for i in range(5)]
    for i, batch in enumerate(batches[:3]):
        queue.enqueue(batch)
        assert int(queue.ptr) == (2 * (i + 1)) % 6
    assert queue.keys[:, 0].tolist() == [0, 0, 1, 1, 2, 2]
    queue.enqueue(batches[3])  # wraps: the oldest batch (0) is replaced first
    assert queue.keys[:, 0].tolist() == [3, 3, 1, 1, 2, 2]
    queue.enqueue(batches[4])
    assert queue.keys[:, 0].tolist() == [3, 3, 4, 4, 2, 2]
    assert int(queue.ptr) == 4


def test_keys_and_pointer_are_saved_and_restored():
    queue = FIFOQueue(dim=3, length=4)
    queue.enqueue(torch.ones(2, 3))
    state = queue.state_dict()
    assert set(state) == {'keys', 'ptr'}
    restored = FIFOQueue(dim=3, length=4)
    restored.load_state_dict(state)
    assert torch.equal(restored.keys, queue.keys) and int(restored.ptr) == 2


def test_snapshot_is_a_copy():
    queue = FIFOQueue(dim=2, length=2)
    snap = queue.snapshot()
    queue.enqueue(torch.zeros(2, 2))
    assert not torch.equal(snap, queue.keys)


def test_length_not_a_multiple_of_the_batch_is_refused_with_the_numbers():
    queue = FIFOQueue(dim=2, length=10, length_key='model.queue_length')
    with pytest.raises(ValueError, match=r'queue length 10 is not a multiple of the global '
                       r'batch 4; set model.queue_length'):
        queue.enqueue(torch.zeros(4, 2))


def test_wrong_dim_is_refused_with_the_shapes():
    queue = FIFOQueue(dim=3, length=4)
    with pytest.raises(ValueError, match=r'dim=3.*\(2, 5\)'):
        queue.enqueue(torch.zeros(2, 5))


@pytest.mark.parametrize('neck', [
    dict(type='MoCoV2Neck', in_channels=16, hid_channels=8, out_channels=6),
    dict(type='LinearNeck', in_channels=16, out_channels=6),
    dict(type='NonLinearNeck', in_channels=16, hid_channels=8, out_channels=6, num_layers=3,
         with_last_bn=True),
    dict(type='DenseCLNeck', in_channels=16, hid_channels=8, out_channels=6),
    dict(type='SwAVNeck', in_channels=16, hid_channels=8, out_channels=6),
    dict(type='MLPNeck', in_channels=16, hid_channels=8, out_channels=6, num_layers=3),
])
def test_neck_output_dim_reads_each_necks_out_channels(neck):
    import projects.mlp_neck.mlp_neck  # noqa: F401, registers MLPNeck
    assert neck_output_dim(MODELS.build(neck)) == 6


def test_neck_output_dim_without_a_projection_is_unknown():
    assert neck_output_dim(None) is None
    assert neck_output_dim(MODELS.build(dict(type='SwAVNeck', in_channels=16, hid_channels=8,
                                             out_channels=0))) is None
    check_neck_output_dim(None, 128, 'model.dictionary.dim')  # nothing to compare: no error


def test_a_dim_other_than_the_neck_output_names_both_config_keys():
    neck = MODELS.build(dict(type='MoCoV2Neck', in_channels=16, hid_channels=8,
                             out_channels=256))
    check_neck_output_dim(neck, 256, 'model.dictionary.dim')
    with pytest.raises(ValueError, match=r'model\.neck\.out_channels=256 does not match '
                       r'model\.dictionary\.dim=128'):
        check_neck_output_dim(neck, 128, 'model.dictionary.dim')


def test_rename_state_prefixes_renames_under_the_prefix_only():
    state = {'model.old.keys': 1, 'model.old.ptr': 2, 'model.older': 3, 'old.keys': 4}
    rename_state_prefixes(state, 'model.', {'old.': 'new.queue.'})
    assert state == {'model.new.queue.keys': 1, 'model.new.queue.ptr': 2, 'model.older': 3,
                     'old.keys': 4}
