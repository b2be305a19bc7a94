import pytest
import torch

from mmssl.models.memories import NegativeQueue


def test_starts_with_unit_vectors_and_pointer_zero():
    queue = NegativeQueue(dim=4, length=8)
    assert queue.keys.shape == (8, 4)
    assert torch.allclose(queue.keys.norm(dim=1), torch.ones(8))
    assert int(queue.ptr) == 0


def test_fifo_order_and_wrap_around():
    queue = NegativeQueue(dim=2, length=6)
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
    queue = NegativeQueue(dim=3, length=4)
    queue.enqueue(torch.ones(2, 3))
    state = queue.state_dict()
    assert set(state) == {'keys', 'ptr'}
    restored = NegativeQueue(dim=3, length=4)
    restored.load_state_dict(state)
    assert torch.equal(restored.keys, queue.keys) and int(restored.ptr) == 2


def test_snapshot_is_a_copy():
    queue = NegativeQueue(dim=2, length=2)
    snap = queue.snapshot()
    queue.enqueue(torch.zeros(2, 2))
    assert not torch.equal(snap, queue.keys)


def test_length_not_a_multiple_of_the_batch_is_refused_with_the_numbers():
    queue = NegativeQueue(dim=2, length=10, length_key='model.queue_len')
    with pytest.raises(ValueError, match=r'queue length 10 is not a multiple of the global '
                       r'batch 4; set model.queue_len'):
        queue.enqueue(torch.zeros(4, 2))


def test_wrong_dim_is_refused_with_the_shapes():
    queue = NegativeQueue(dim=3, length=4)
    with pytest.raises(ValueError, match=r'dim=3.*\(2, 5\)'):
        queue.enqueue(torch.zeros(2, 5))
