import pytest
import torch
from mmpretrain.models import VisionTransformer

from mmssl.models.utils.mask_generators import random_mask
from mmssl.registry import MODELS
from tests._mim import NUM_PATCHES, PATCH, tiny_vit


def build(**kwargs):
    vit = MODELS.build(tiny_vit(**kwargs))
    vit.init_weights()
    vit.eval()  # mmpretrain's BaseBackbone.train() returns None: no chaining
    return vit


def _pixels_of(mask, size=16):
    """(N, L) patch mask -> (N, 1, H, W) pixel mask."""
    g = size // PATCH
    return mask.view(-1, 1, g, g).repeat_interleave(PATCH, 2).repeat_interleave(PATCH, 3)


def test_kept_tokens_do_not_see_masked_pixels():
    torch.manual_seed(0)
    vit = build()
    x = torch.randn(3, 3, 16, 16)
    mask = random_mask(3, NUM_PATCHES, 0.75)
    out = vit(x, mask)
    assert out.shape == (3, 1 + 4, 32)
    changed = torch.where(_pixels_of(mask), torch.randn_like(x) * 10, x)
    assert not torch.equal(changed, x)
    assert torch.allclose(vit(changed, mask), out, atol=1e-6)
    # ...while a change of a kept pixel does change them
    kept = torch.where(_pixels_of(~mask), x + 1, x)
    assert not torch.allclose(vit(kept, mask), out, atol=1e-3)


def test_kept_tokens_equal_a_vit_run_on_those_patches_alone():
    torch.manual_seed(0)
    vit = build()
    x = torch.randn(2, 3, 16, 16)
    mask = random_mask(2, NUM_PATCHES, 0.5)
    out = vit(x, mask)
    # by hand: embed all patches, add positions, keep the unmasked ones in order
    tokens = vit.patch_embed(x)[0] + vit.pos_embed[:, 1:]
    for i in range(2):
        seq = torch.cat([vit.cls_token[0] + vit.pos_embed[0, :1], tokens[i][~mask[i]]])[None]
        for layer in vit.layers:
            seq = layer(seq)
        assert torch.allclose(vit.ln1(seq), out[i:i + 1], atol=1e-5)


def test_mask_token_mode_replaces_masked_patches():
    torch.manual_seed(0)
    vit = build(mask_token=True)
    x = torch.randn(2, 3, 16, 16)
    mask = random_mask(2, NUM_PATCHES, 0.5)
    out = vit(x, mask)
    assert out.shape == (2, 1 + NUM_PATCHES, 32)
    # the encoder input at masked patches does not depend on their pixels
    changed = torch.where(_pixels_of(mask), torch.randn_like(x), x)
    assert torch.allclose(vit(changed, mask), out, atol=1e-6)
    assert not torch.allclose(vit(x, torch.zeros_like(mask)), out, atol=1e-3)


def test_plain_forward_and_state_dict_are_mmpretrains():
    vit = build(sincos_pos_embed=True)
    assert not vit.pos_embed.requires_grad
    x = torch.randn(2, 3, 16, 16)
    plain = VisionTransformer(arch=vit.arch_settings, img_size=16, patch_size=PATCH,
                              out_type='raw')
    plain.eval()
    plain.load_state_dict(vit.state_dict())  # no missing or unexpected key
    assert torch.allclose(plain(x)[0], vit(x)[0])
    assert 'mask_token' in build(mask_token=True).state_dict()
    with pytest.raises(ValueError, match='does not match'):
        vit(x, torch.zeros(2, 4, dtype=torch.bool))
