import pytest
import torch

from mmssl.models.utils.mask_generators import block_grid_mask
from mmssl.models.utils.patches import patchify
from tests._mim import build_simmim, images, losses_on_a_fixed_batch


def test_loss_is_l1_of_raw_pixels_on_masked_patches():
    model = build_simmim()
    x = images()
    torch.manual_seed(5)
    loss = model.loss([x])['loss']
    torch.manual_seed(5)
    mask = block_grid_mask(4, (4, 4), 2, 0.5)  # 8-px blocks of 2 x 2 patches: 2 of 4
    assert (mask.sum(1) == 8).all()
    with torch.no_grad():
        tokens = model.backbone(x, mask)[:, 1:]  # mask tokens inside the encoder
        image = model.neck(tokens.transpose(1, 2).reshape(4, 32, 4, 4))
    assert image.shape == x.shape
    err = (patchify(image, 4) - patchify(x, 4)).abs().mean(-1)
    assert loss.item() == pytest.approx(float(err[mask].mean()), rel=1e-5)


def test_gradients_reach_encoder_mask_token_and_head():
    model = build_simmim()
    model.loss([images()])['loss'].backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    assert model.backbone.mask_token.grad is not None


def test_a_few_steps_lower_the_loss_on_a_fixed_batch():
    losses = losses_on_a_fixed_batch(build_simmim)
    assert losses[-1] < 0.9 * losses[0]


def test_mask_block_must_be_whole_patches():
    from mmssl.registry import MODELS
    from tests._mim import DIM, IDENTITY_PREPROCESSOR, tiny_vit
    with pytest.raises(ValueError, match='not a multiple of the patch size'):
        MODELS.build(dict(
            type='SimMIM', backbone=tiny_vit(mask_token=True), mask_patch_size=6,
            neck=dict(type='SimMIMLinearDecoder', in_channels=DIM, encoder_stride=4),
            head=dict(type='PixelReconstructionHead', patch_size=4, loss='l1'),
            data_preprocessor=IDENTITY_PREPROCESSOR))
