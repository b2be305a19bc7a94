import pytest
import torch

from mmssl.models.heads import PixelReconstructionHead
from mmssl.models.utils.patches import patchify


def test_mse_on_normalised_patches_and_l1_on_raw_pixels():
    gen = torch.Generator().manual_seed(0)
    images = torch.randn(2, 3, 8, 8, generator=gen)
    pred = torch.randn(2, 4, 48, generator=gen)
    mask = torch.tensor([[True, False, False, True], [False, True, False, False]])
    target = patchify(images, 4)
    norm = (target - target.mean(-1, keepdim=True)) / (target.var(-1, keepdim=True) + 1e-6) ** .5
    picks = [(0, 0), (0, 3), (1, 1)]
    mse = sum(float(((pred[i, j] - norm[i, j]) ** 2).mean()) for i, j in picks) / 3
    l1 = sum(float((pred[i, j] - target[i, j]).abs().mean()) for i, j in picks) / 3
    head = PixelReconstructionHead(patch_size=4, loss='mse', norm_pix=True)
    assert head.loss(pred, images, mask).item() == pytest.approx(mse, rel=1e-5)
    head = PixelReconstructionHead(patch_size=4, loss='l1', loss_weight=2.0)
    assert head.loss(pred, images, mask).item() == pytest.approx(2 * l1, rel=1e-5)
    with pytest.raises(ValueError, match='loss must be one of'):
        PixelReconstructionHead(patch_size=4, loss='huber')


def test_token_head_cross_entropy_on_tokenizer_ids_of_masked_patches():
    from mmssl.models.heads import TokenPredictionHead
    from tests._mim import kmeans_tokenizer
    torch.manual_seed(0)
    tokenizer = kmeans_tokenizer(vocab_size=8)
    head = TokenPredictionHead(tokenizer, vocab_size=8, in_channels=32)
    head.train()
    assert not tokenizer.training  # the tokenizer stays frozen in eval mode
    images, feats = torch.randn(2, 3, 16, 16), torch.randn(2, 16, 32)
    mask = torch.rand(2, 16) < 0.5
    ids = tokenizer(images)
    logits = head.fc(feats)
    expected = torch.nn.functional.cross_entropy(logits[mask], ids[mask])
    assert head.loss(feats, images, mask).item() == pytest.approx(expected.item(), rel=1e-6)
    # without in_channels the predictions are the logits (SplitMask's decoder)
    plain = TokenPredictionHead(tokenizer, vocab_size=8)
    assert plain.loss(logits, images, mask).item() == pytest.approx(expected.item(), rel=1e-6)
