"""Patch masks for masked image modeling, made for a whole batch at once.

Every generator returns a boolean mask (N, L) over the L = h * w patches of each image,
in raster order, ``True`` where a patch is masked (hidden from the encoder and, for MIM,
predicted). Where the method defines a count, every image masks exactly that many
patches, so the kept tokens of a batch stack into one (N, K, C) tensor. Randomness comes
from ``generator`` (a ``torch.Generator`` on ``device``) or torch's global RNG.
"""
import math
from typing import Optional

import torch
from torch import Tensor


def _rand(shape, device, generator: Optional[torch.Generator]) -> Tensor:
    return torch.rand(shape, device=device, generator=generator)


def exact_random_mask(n: int, num_patches: int, num_masked: int,
                      device: torch.device | str = 'cpu',
                      generator: Optional[torch.Generator] = None) -> Tensor:
    """(n, num_patches) bool: exactly ``num_masked`` patches per row, uniformly at random."""
    if not 0 <= num_masked <= num_patches:
        raise ValueError(f'cannot mask {num_masked} of {num_patches} patches')
    rank = _rand((n, num_patches), device, generator).argsort(dim=1).argsort(dim=1)
    return rank < num_masked


def random_mask_count(num_patches: int, ratio: float) -> int:
    """How many patches :func:`random_mask` masks: ``round(ratio * num_patches)``."""
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f'mask ratio must be in [0, 1), got {ratio}')
    return round(ratio * num_patches)


def random_mask(n: int, num_patches: int, ratio: float,
                device: torch.device | str = 'cpu',
                generator: Optional[torch.Generator] = None) -> Tensor:
    """MAE's mask: ``round(ratio * num_patches)`` patches per image, uniformly at random.

    With MAE's 0.75 on 196 patches: 147 masked, 49 kept (as MAE's ``int(L * 0.25)``).
    """
    return exact_random_mask(n, num_patches, random_mask_count(num_patches, ratio), device,
                             generator)


def split_halves(n: int, num_patches: int, device: torch.device | str = 'cpu',
                 generator: Optional[torch.Generator] = None) -> Tensor:
    """SplitMask's partition: (n, num_patches) bool, ``True`` for the patches of half A.

    A holds ``num_patches // 2`` patches drawn at random, B (``~in_a``) the others: the
    two halves are disjoint and cover every patch.
    """
    return exact_random_mask(n, num_patches, num_patches // 2, device, generator)


def block_grid_mask(n: int, grid: tuple[int, int], block: int, ratio: float,
                    device: torch.device | str = 'cpu',
                    generator: Optional[torch.Generator] = None) -> Tensor:
    """SimMIM's mask: random square blocks of ``block`` x ``block`` patches.

    The patch grid (h, w) is cut into (h / block) x (w / block) blocks; ``round(ratio *
    blocks)`` of them are masked at random and each masks all its patches, so exactly
    ``round(ratio * blocks) * block**2`` patches are masked. SimMIM masks 32-px blocks:
    ``block = 32 // patch_size`` (2 for ViT-B/16 at 224 px: 7 x 7 blocks, 0.6 -> 29).

    Returns:
        (n, h * w) bool in raster order.
    """
    h, w = grid
    if block < 1 or h % block or w % block:
        raise ValueError(f'patch grid {grid} is not a whole number of {block} x {block} '
                         f'blocks; pick a mask patch size that divides the image size')
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f'mask ratio must be in [0, 1), got {ratio}')
    bh, bw = h // block, w // block
    coarse = exact_random_mask(n, bh * bw, round(ratio * bh * bw), device, generator)
    fine = coarse.view(n, bh, 1, bw, 1).expand(n, bh, block, bw, block)
    return fine.reshape(n, h * w)


def blockwise_mask(n: int, grid: tuple[int, int], num_masked: int,
                   min_block: int = 16, max_block: Optional[int] = None,
                   aspect: tuple[float, float] = (0.3, 1 / 0.3),
                   max_rounds: int = 200, device: torch.device | str = 'cpu',
                   generator: Optional[torch.Generator] = None) -> Tensor:
    """BEiT's blockwise mask: rectangles of patches added until ``num_masked`` are masked.

    As BEiT's ``MaskingGenerator`` (75 of 14 x 14 patches, blocks of >= 16 patches,
    aspect ratio log-uniform in 0.3 .. 1/0.3), for every image of the batch at once:
    each round draws one rectangle per image, of area uniform in [min_block, remaining]
    (capped by ``max_block``), and keeps it where it adds between 1 and ``remaining``
    new patches. After ``max_rounds`` the rare image still short of ``num_masked``
    (BEiT would stop there) is completed with random patches, so every image masks
    exactly ``num_masked``.

    Returns:
        (n, h * w) bool in raster order.
    """
    h, w = grid
    if not 0 <= num_masked <= h * w:
        raise ValueError(f'cannot mask {num_masked} of {h * w} patches')
    max_block = num_masked if max_block is None else max_block
    mask = torch.zeros(n, h, w, dtype=torch.bool, device=device)
    rows = torch.arange(h, device=device).view(1, h, 1)
    cols = torch.arange(w, device=device).view(1, 1, w)
    log_lo, log_hi = math.log(aspect[0]), math.log(aspect[1])
    for _ in range(max_rounds):
        remaining = num_masked - mask.flatten(1).sum(1)
        if not bool((remaining > 0).any()):
            break
        u = _rand((4, n), device, generator)
        hi = remaining.clamp(max=max_block).float()
        area = min_block + u[0] * (hi - min_block)
        ratio = torch.exp(log_lo + u[1] * (log_hi - log_lo))
        bh = torch.sqrt(area * ratio).round().long()
        bw = torch.sqrt(area / ratio).round().long()
        fits = (bh >= 1) & (bw >= 1) & (bh < h) & (bw < w)
        bh, bw = bh.clamp(1, h - 1), bw.clamp(1, w - 1)
        top = (u[2] * (h - bh + 1).float()).long()
        left = (u[3] * (w - bw + 1).float()).long()
        block = ((rows >= top.view(n, 1, 1)) & (rows < (top + bh).view(n, 1, 1))
                 & (cols >= left.view(n, 1, 1)) & (cols < (left + bw).view(n, 1, 1)))
        new = (block & ~mask).flatten(1).sum(1)
        accept = fits & (new > 0) & (new <= remaining)
        mask |= block & accept.view(n, 1, 1)
    mask = mask.flatten(1)
    short = num_masked - mask.sum(1)
    if bool((short > 0).any()):  # top up with random unmasked patches
        score = _rand(mask.shape, device, generator).masked_fill(mask, 2.0)
        rank = score.argsort(dim=1).argsort(dim=1)
        mask |= rank < short.view(n, 1)
    return mask


def kept_first_order(mask: Tensor, num_kept: Optional[int] = None) -> tuple[Tensor, Tensor]:
    """The token orders that gather kept patches and put them back (MAE's ids).

    mask: (N, L) bool, the same number of ``False`` (kept) patches in every row.
    num_kept: that number, when the caller made the mask and knows it. Without it, it is
    read from the mask and every row is checked, a host read of the mask (a GPU sync).

    Returns:
        ``ids_keep`` (N, K): the kept patches' indices, ascending; ``ids_restore``
        (N, L): for each patch, its place in [kept patches, masked patches] order, which
        is what mmpretrain's ``MAEPretrainDecoder`` takes to unshuffle.
    """
    if num_kept is None:
        kept = (~mask).sum(1)
        if bool((kept != kept[0]).any()):
            raise ValueError(f'every image must keep the same number of patches, got '
                             f'{kept.tolist()}')
        num_kept = int(kept[0])
    ids_shuffle = mask.to(torch.uint8).argsort(dim=1, stable=True)
    ids_restore = ids_shuffle.argsort(dim=1)
    return ids_shuffle[:, :num_kept], ids_restore
