import pytest
import torch
import torch.nn.functional as F

from mmssl.models.utils.mask_generators import blockwise_mask
from tests._mim import build_beit, images, losses_on_a_fixed_batch


def test_loss_is_cross_entropy_of_token_ids_on_masked_patches():
    model = build_beit()
    x = images()
    torch.manual_seed(5)
    loss = model.loss([x])['loss']
    torch.manual_seed(5)
    mask = blockwise_mask(4, (4, 4), 6, min_block=2)  # the draw the model made
    assert (mask.sum(1) == 6).all()
    with torch.no_grad():
        logits = model.head.fc(model.backbone(x, mask)[:, 1:])  # mask tokens in the encoder
        ids = model.head.tokenizer(x)
    assert loss.item() == pytest.approx(F.cross_entropy(logits[mask], ids[mask]).item(),
                                        rel=1e-5)


def test_gradients_reach_encoder_mask_token_and_head():
    model = build_beit()
    model.loss([images()])['loss'].backward()
    for name, param in model.named_parameters():
        if param.requires_grad:
            assert param.grad is not None and param.grad.abs().sum() > 0, name
    assert model.backbone.mask_token.grad is not None


def test_a_few_steps_lower_the_loss_on_a_fixed_batch():
    losses = losses_on_a_fixed_batch(build_beit)
    assert losses[-1] < 0.9 * losses[0]
