import pytest
import torch

from mmssl.models.utils.mask_generators import (block_grid_mask, blockwise_mask,
                                                exact_random_mask, kept_first_order,
                                                random_mask, random_mask_count,
                                                split_halves)
from tests._helpers import HostCallRecorder


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_random_mask_masks_exactly_the_ratio_per_image():
    mask = random_mask(32, 196, 0.75, generator=_gen())
    assert mask.shape == (32, 196) and mask.dtype == torch.bool
    assert (mask.sum(1) == 147).all()  # 49 kept, as MAE's int(196 * 0.25)
    assert len({tuple(row.tolist()) for row in mask}) == 32  # a fresh draw per image
    # uniform: every patch is masked about 75 % of the time
    freq = random_mask(4000, 16, 0.75, generator=_gen(1)).float().mean(0)
    assert torch.allclose(freq, torch.full_like(freq, 0.75), atol=0.04)


def test_exact_random_mask_rejects_impossible_counts():
    with pytest.raises(ValueError, match='cannot mask 17 of 16'):
        exact_random_mask(2, 16, 17)


def test_split_halves_are_disjoint_and_cover_every_patch():
    in_a = split_halves(16, 196, generator=_gen())
    in_b = ~in_a
    assert (in_a.sum(1) == 98).all() and (in_b.sum(1) == 98).all()
    assert not (in_a & in_b).any() and (in_a | in_b).all()
    odd = split_halves(4, 49, generator=_gen())
    assert (odd.sum(1) == 24).all() and ((~odd).sum(1) == 25).all()


def test_block_grid_mask_masks_whole_32px_blocks():
    # ViT-B/16 at 224 px: 14 x 14 patches in 7 x 7 blocks of 2 x 2 patches (32 px)
    mask = block_grid_mask(8, (14, 14), 2, 0.6, generator=_gen())
    assert (mask.sum(1) == round(0.6 * 49) * 4).all()
    blocks = mask.view(8, 7, 2, 7, 2)
    # every 2 x 2 block is all masked or all kept
    assert (blocks.all(dim=(2, 4)) == blocks.any(dim=(2, 4))).all()
    assert (blocks.all(dim=(2, 4)).flatten(1).sum(1) == 29).all()
    with pytest.raises(ValueError, match='whole number'):
        block_grid_mask(1, (14, 14), 4, 0.6)


def _clumpiness(mask, grid):
    """The fraction of masked patches with at least two masked 4-neighbours."""
    m = mask.view(-1, *grid).float()
    pad = torch.nn.functional.pad(m, (1, 1, 1, 1))
    neighbours = pad[:, :-2, 1:-1] + pad[:, 2:, 1:-1] + pad[:, 1:-1, :-2] + pad[:, 1:-1, 2:]
    return float(((neighbours >= 2) & (m > 0)).sum() / m.sum())


def test_blockwise_mask_exact_count_and_block_shapes():
    mask = blockwise_mask(64, (14, 14), 75, generator=_gen())  # BEiT: 75 of 196, blocks >= 16
    assert mask.shape == (64, 196) and (mask.sum(1) == 75).all()
    assert len({tuple(row.tolist()) for row in mask}) == 64
    # rectangles, not scattered patches: far more masked neighbours than a random mask
    scattered = _clumpiness(random_mask(64, 196, 75 / 196, generator=_gen(1)), (14, 14))
    assert scattered < 0.6 < 0.85 < _clumpiness(mask, (14, 14))
    # one block only: a single rectangle of the drawn size and aspect
    one = blockwise_mask(256, (14, 14), 100, min_block=16, max_block=16, max_rounds=1,
                         aspect=(1.0, 1.0), generator=_gen(2))
    # area 16 at aspect 1 is a 4 x 4 square (then random top-up to 100)
    grid = one.view(256, 14, 14)
    squares = torch.nn.functional.avg_pool2d(grid[:, None].float(), 4, stride=1) == 1
    assert squares.flatten(1).any(1).float().mean() > 0.95


def test_kept_first_order_gathers_kept_patches_and_restores_order():
    mask = random_mask(5, 16, 0.75, generator=_gen())
    ids_keep, ids_restore = kept_first_order(mask)
    assert ids_keep.shape == (5, 4)
    assert (~mask.gather(1, ids_keep)).all()
    assert (ids_keep.diff(dim=1) > 0).all()  # ascending patch order
    tokens = torch.arange(16).expand(5, 16)
    shuffled = torch.cat([tokens.gather(1, ids_keep),
                          tokens.masked_select(mask).view(5, 12)], dim=1)
    assert torch.equal(shuffled.gather(1, ids_restore), tokens)
    with pytest.raises(ValueError, match='same number'):
        kept_first_order(torch.tensor([[True, False], [True, True]]))


def test_kept_first_order_with_the_count_given_reads_nothing_back(monkeypatch):
    mask = random_mask(5, 16, 0.75, generator=_gen())
    num_kept = 16 - random_mask_count(16, 0.75)
    assert num_kept == 4
    with HostCallRecorder(monkeypatch) as recorder:
        given = kept_first_order(mask, num_kept)
    assert recorder.calls == []
    read = kept_first_order(mask)
    assert all(torch.equal(a, b) for a, b in zip(given, read))
    with HostCallRecorder(monkeypatch) as recorder:
        kept_first_order(mask)
    assert len(recorder.calls) == 2  # the check and the count, read off the mask
