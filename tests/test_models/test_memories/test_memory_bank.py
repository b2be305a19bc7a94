import pytest
import torch
import torch.nn.functional as F

from mmssl.models.memories import MemoryBank
from mmssl.models.memories.memory_bank import first_occurrence_rows
from tests._dist import run_distributed

SIZE, DIM = 10, 4


def _bank(seed: int = 0) -> MemoryBank:
    torch.manual_seed(seed)
    return MemoryBank(DIM, SIZE, proximal_weight=0.5)


def _feats(n: int, seed: int = 1) -> torch.Tensor:
    return F.normalize(torch.randn(n, DIM, generator=torch.Generator().manual_seed(seed)), dim=1)


def test_update_follows_the_proximal_rule_and_leaves_other_rows():
    bank = _bank()
    before = bank.feats.clone()
    feats = _feats(2)
    bank.update(torch.tensor([2, 0]), feats)
    for row, f in zip((2, 0), feats):
        expected = F.normalize(0.5 * before[row] + 0.5 * f, dim=0)
        torch.testing.assert_close(bank.feats[row], expected)
    untouched = [i for i in range(SIZE) if i not in (0, 2)]
    assert torch.equal(bank.feats[untouched], before[untouched])


def test_a_repeated_image_is_written_once_from_its_first_copy():
    bank = _bank()
    before = bank.feats.clone()
    feats = _feats(3)
    bank.update(torch.tensor([3, 1, 3]), feats)
    torch.testing.assert_close(bank.feats[3], F.normalize(0.5 * before[3] + 0.5 * feats[0], dim=0))
    torch.testing.assert_close(bank.feats[1], F.normalize(0.5 * before[1] + 0.5 * feats[1], dim=0))


def test_first_occurrence_rows_points_every_copy_at_the_first():
    rows, source = first_occurrence_rows(torch.tensor([5, 2, 5, 7, 2, 5]))
    assert rows.tolist() == [2, 2, 5, 5, 5, 7]
    assert source.tolist() == [1, 1, 0, 0, 0, 3]


def test_lookup_sample_and_the_state_dict():
    bank = _bank()
    assert torch.equal(bank.lookup(torch.tensor([4, 4, 9])), bank.feats[[4, 4, 9]])
    negatives = bank.sample(3, 5)
    assert negatives.shape == (3, 5, DIM)
    # every sampled negative is one of the bank's rows
    match = (negatives.reshape(-1, 1, DIM) == bank.feats[None]).all(-1).any(-1)
    assert match.all()
    bank.update(torch.tensor([1]), _feats(1))
    restored = MemoryBank(DIM, SIZE)
    restored.load_state_dict(bank.state_dict())
    assert torch.equal(restored.feats, bank.feats)


def test_bad_shapes_are_named():
    bank = _bank()
    with pytest.raises(ValueError, match=r'features of shape \(2, 3\) for 2 indices'):
        bank.update(torch.tensor([0, 1]), torch.zeros(2, 3))
    with pytest.raises(ValueError, match='1-D integer tensor'):
        bank.lookup(torch.tensor([0.0]))
    with pytest.raises(ValueError, match='proximal_weight must be in'):
        MemoryBank(DIM, SIZE, proximal_weight=1.0)


# The global batch of one step: image 3 is on both ranks, image 0 twice on rank 1.
GLOBAL_INDICES = torch.tensor([3, 1, 7, 2, 3, 0, 5, 0])


def _update_on_rank(rank, world_size):
    bank = _bank()
    n = GLOBAL_INDICES.numel() // world_size
    local = slice(rank * n, (rank + 1) * n)
    bank.update(GLOBAL_INDICES[local], _feats(GLOBAL_INDICES.numel())[local])
    return bank.feats


def test_two_ranks_write_each_row_once_and_match_one_process():
    one_process = _bank()
    one_process.update(GLOBAL_INDICES, _feats(GLOBAL_INDICES.numel()))
    rank0, rank1 = run_distributed(_update_on_rank, 2)
    assert torch.equal(rank0, rank1)  # the replicas stay identical
    torch.testing.assert_close(rank0, one_process.feats)
    before = _bank().feats
    # image 3 from rank 0's copy (position 0), written once
    torch.testing.assert_close(
        rank0[3], F.normalize(0.5 * before[3] + 0.5 * _feats(8)[0], dim=0))


def test_memory_bank_is_restored_on_resume(tmp_path, fashion_mnist_root):
    """A real runner trains a memory-bank MoCo for an epoch; a resumed runner gets its bank."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from tests._helpers import DEMO_CONFIG, tiny_run_overrides

    def runner(resume):
        cfg = Config.fromfile(DEMO_CONFIG)
        cfg.merge_from_dict(tiny_run_overrides(str(tmp_path), images=16, batch=8))
        cfg.model.ema_momentum = None
        cfg.model.dictionary = dict(type='MemoryBankKeys', size=16, num_negatives=8, dim=128)
        cfg.resume = resume
        return Runner.from_cfg(cfg)

    first = runner(resume=False)
    first.train()
    trained = first.model.dictionary.bank.feats.clone()
    assert not torch.equal(trained, runner(False).model.dictionary.bank.feats)

    resumed = runner(resume=True)
    resumed.load_or_resume()
    assert resumed.iter == 2
    assert torch.equal(resumed.model.dictionary.bank.feats, trained)
