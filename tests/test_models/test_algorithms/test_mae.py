import pytest
import torch

from mmssl.models.utils.mask_generators import kept_first_order, random_mask
from mmssl.models.utils.patches import patchify
from tests._mim import NUM_PATCHES, build_mae, images, losses_on_a_fixed_batch


def test_loss_is_mse_of_normalised_pixels_on_masked_patches():
    model = build_mae()
    x = images()
    torch.manual_seed(5)
    loss = model.loss([x])['loss']
    torch.manual_seed(5)
    mask = random_mask(4, NUM_PATCHES, 0.75)  # the draw the model made
    assert (mask.sum(1) == 12).all()
    with torch.no_grad():
        pred = model.neck(model.backbone(x, mask), kept_first_order(mask)[1])
    target = patchify(x, 4)
    var = target.var(-1, keepdim=True)
    target = (target - target.mean(-1, keepdim=True)) / (var + 1e-6) ** .5
    per_patch = ((pred - target) ** 2).mean(-1)
    assert loss.item() == pytest.approx(float(per_patch[mask].mean()), rel=1e-5)


def test_gradients_reach_encoder_and_decoder():
    model = build_mae()
    model.loss([images()])['loss'].backward()
    for name, param in model.named_parameters():
        if param.requires_grad:
            assert param.grad is not None and param.grad.abs().sum() > 0, name
    assert not model.backbone.pos_embed.requires_grad  # fixed sin-cos, as MAE


def test_a_few_steps_lower_the_loss_on_a_fixed_batch():
    losses = losses_on_a_fixed_batch(build_mae)
    assert losses[-1] < 0.9 * losses[0]


def test_predict_gives_pooled_features_of_the_unmasked_image():
    model = build_mae()
    samples = model.predict([images(2)])
    assert samples[0].feat.shape == (32,)
