import pytest
import torch
import torch.nn.functional as F

from mmssl.models.utils.mask_generators import kept_first_order, split_halves
from mmssl.models.utils.patches import patchify
from tests._mim import NUM_PATCHES, build_splitmask, images, losses_on_a_fixed_batch


def _norm_pix(x):
    t = patchify(x, 4)
    return (t - t.mean(-1, keepdim=True)) / (t.var(-1, keepdim=True) + 1e-6) ** .5


def test_three_terms_against_a_direct_recomputation():
    model = build_splitmask(contrastive_weight=0.5)
    x = images()
    torch.manual_seed(5)
    losses = model.loss([x])
    assert set(losses) == {'loss_mim_ab', 'loss_mim_ba', 'loss_contrastive'}
    torch.manual_seed(5)
    in_a = split_halves(4, NUM_PATCHES)  # the draw the model made
    in_b = ~in_a
    target = _norm_pix(x)
    with torch.no_grad():
        # each half encoded alone: the encoder sees 8 tokens (+ class token)
        enc_a, enc_b = model.backbone(x, in_b), model.backbone(x, in_a)
        assert enc_a.shape == enc_b.shape == (4, 1 + 8, 32)
        pred_b, hid_a = model.neck(enc_a, kept_first_order(in_b)[1], return_hidden=True)
        pred_a, hid_b = model.neck(enc_b, kept_first_order(in_a)[1], return_hidden=True)
    mim_ab = ((pred_b - target) ** 2).mean(-1)[in_b].mean()  # A predicts B's patches only
    mim_ba = ((pred_a - target) ** 2).mean(-1)[in_a].mean()
    x_a, x_b = F.normalize(hid_a.mean(1), dim=1), F.normalize(hid_b.mean(1), dim=1)
    sim = x_a @ x_b.t() / 0.2
    ctr = 0.5 * (-sim.log_softmax(1).diag().mean() - sim.t().log_softmax(1).diag().mean())
    assert losses['loss_mim_ab'].item() == pytest.approx(float(mim_ab), rel=1e-5)
    assert losses['loss_mim_ba'].item() == pytest.approx(float(mim_ba), rel=1e-5)
    assert losses['loss_contrastive'].item() == pytest.approx(0.5 * float(ctr), rel=1e-5)


def test_gradients_reach_encoder_and_decoder_from_each_term():
    for term in ('loss_mim_ab', 'loss_contrastive'):
        model = build_splitmask()
        model.loss([images()])[term].backward()
        for name, param in model.named_parameters():
            # the contrastive term pools the decoder's hidden tokens, before decoder_pred
            if param.requires_grad and not (term == 'loss_contrastive'
                                            and name.startswith('neck.decoder_pred')):
                assert param.grad is not None and param.grad.abs().sum() > 0, (term, name)
        assert model.backbone.patch_embed.projection.weight.grad.abs().sum() > 0
        assert model.neck.mask_token.grad.abs().sum() > 0


def test_a_few_steps_lower_the_loss_on_a_fixed_batch():
    losses = losses_on_a_fixed_batch(build_splitmask)
    assert losses[-1] < 0.9 * losses[0]
