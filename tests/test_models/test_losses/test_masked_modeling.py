import pytest
import torch

from mmssl.models.losses import (masked_cross_entropy, masked_l1, masked_mse,
                                 normalized_pixel_targets)


def _tiny():
    gen = torch.Generator().manual_seed(0)
    pred = torch.randn(2, 3, 4, generator=gen)
    target = torch.randn(2, 3, 4, generator=gen)
    mask = torch.tensor([[True, False, True], [False, False, True]])
    return pred, target, mask


def test_masked_mse_counts_masked_patches_only():
    pred, target, mask = _tiny()
    expected = sum(float(((pred[i, j] - target[i, j]) ** 2).mean())
                   for i, j in [(0, 0), (0, 2), (1, 2)]) / 3
    assert masked_mse(pred, target, mask).item() == pytest.approx(expected, rel=1e-6)
    # the unmasked patches can be anything
    wild = torch.where(mask[..., None], pred, pred + 100)
    assert masked_mse(wild, target, mask).item() == pytest.approx(expected, rel=1e-6)


def test_masked_l1_counts_masked_patches_only():
    pred, target, mask = _tiny()
    expected = sum(float((pred[i, j] - target[i, j]).abs().sum())
                   for i, j in [(0, 0), (0, 2), (1, 2)]) / (3 * 4)
    assert masked_l1(pred, target, mask).item() == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match='does not match'):
        masked_l1(pred, target, mask[:, :2])


def test_normalized_pixel_targets_as_mae():
    patches = torch.randn(2, 5, 12) * 3 + 7
    out = normalized_pixel_targets(patches)
    mean = patches.mean(-1, keepdim=True)
    var = patches.var(-1, keepdim=True)  # unbiased, as MAE's target.var(dim=-1)
    assert torch.allclose(out, (patches - mean) / (var + 1e-6) ** 0.5)
    assert torch.allclose(out.mean(-1), torch.zeros(2, 5), atol=1e-5)


def test_masked_cross_entropy_on_masked_token_ids():
    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 3, 5, generator=gen)
    ids = torch.tensor([[4, 0, 1], [2, 3, 3]])
    mask = torch.tensor([[True, False, True], [False, False, True]])
    expected = -sum(float(logits[i, j].log_softmax(-1)[ids[i, j]])
                    for i, j in [(0, 0), (0, 2), (1, 2)]) / 3
    assert masked_cross_entropy(logits, ids, mask).item() == pytest.approx(expected, rel=1e-6)
