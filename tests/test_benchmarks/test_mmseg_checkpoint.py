"""mmssl backbone checkpoints load into mmseg's backbones exactly (every tensor, the same
features as the mmpretrain backbone they were trained as), or fail naming the keys."""
import re

import pytest
import torch
from mmengine.registry import DefaultScope

import mmssl.seg  # noqa: F401  (what custom_imports=dict(imports=['mmssl.seg']) does)
from mmssl.seg.backbone_checkpoint import _VIT_FINAL_NORM, _VIT_PRETRAINING_ONLY
from mmssl.utils.checkpoint_export import extract_backbone_file

TINY_VIT = dict(embed_dims=32, num_layers=4, num_heads=2, feedforward_channels=128)
VIT_OUT = (1, 3)


def _randomised(state: dict, seed: int) -> dict:
    """Random tensors of ``state``'s shapes, of sane scale (the features stay finite), none
    equal to an init: conv/linear weights ~ N(0, 1/fan_in), norm weights and layer scale
    ~ 1 + N(0, 0.1), running variances in [0.5, 1.5], the rest ~ N(0, 0.1)."""
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for name, value in state.items():
        if not value.is_floating_point():
            out[name] = value.clone()
        elif name.endswith('running_var'):
            out[name] = torch.rand(value.shape, generator=gen) + 0.5
        elif value.dim() >= 2 and value.shape[0] > 1:
            out[name] = torch.randn(value.shape, generator=gen) / (value[0].numel() ** 0.5)
        elif value.dim() == 1 and name.endswith('weight'):
            out[name] = 1 + 0.1 * torch.randn(value.shape, generator=gen)
        else:
            out[name] = 0.1 * torch.randn(value.shape, generator=gen)
    return out


def _save_mmssl(path: str, backbone: dict) -> None:
    """An mmssl training checkpoint: the online backbone, a decoy momentum copy, a neck."""
    state = {f'backbone.{k}': v for k, v in backbone.items()}
    state.update({f'momentum_backbone.{k}': v + 1 for k, v in backbone.items()
                  if v.is_floating_point()})
    state['neck.mlp.0.weight'] = torch.zeros(8, 4)
    torch.save({'state_dict': state, 'meta': {}}, path)


@pytest.fixture(params=['training', 'extracted'])
def layout(request) -> str:
    """The two files a config may name: an mmssl checkpoint, extract_backbone.py's output."""
    return request.param


def _checkpoint(tmp_path, backbone: dict, layout: str) -> str:
    raw = str(tmp_path / 'mmssl.pth')
    _save_mmssl(raw, backbone)
    if layout == 'training':
        return raw
    extract_backbone_file(raw, str(tmp_path / 'backbone.pth'))
    return str(tmp_path / 'backbone.pth')


def _build_mmseg(cfg: dict, checkpoint: str):
    """An mmseg backbone built and initialised as mmseg's runner does (scope ``mmseg``)."""
    from mmseg.registry import MODELS  # its locations: mmseg.models, imported on first use
    cfg = dict(cfg, init_cfg=dict(type='mmssl.PretrainedBackbone', checkpoint=checkpoint))
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg)
        model.init_weights()
    model.eval()  # mmseg's and mmpretrain's backbones' train() returns None
    return model


def _resnet18_checkpoint(seed: int = 0) -> dict:
    from mmpretrain.models import ResNet
    return _randomised(ResNet(depth=18).state_dict(), seed)


def _mmpretrain_resnet18(backbone: dict):
    from mmpretrain.models import ResNet
    model = ResNet(depth=18, out_indices=(0, 1, 2, 3))
    model.load_state_dict(backbone, strict=True)
    model.eval()
    return model


def _assert_loaded(model, backbone: dict, renamed: dict = None, own: tuple = ()) -> set:
    """Every tensor of ``model`` is the checkpoint's (``renamed``: module key -> checkpoint
    key) except the keys matching ``own``; returns the checkpoint keys used."""
    renamed = renamed or {}
    used = set()
    for name, value in model.state_dict().items():
        if any(re.fullmatch(pattern, name) for pattern in own):
            continue
        source = renamed.get(name, name)
        assert source in backbone, f'{name}: not in the checkpoint'
        assert torch.equal(value, backbone[source]), f'{name}: not loaded from the checkpoint'
        used.add(source)
    return used


def test_the_scoped_name_resolves_from_mmengines_root_and_mmsegs_registry():
    """mmengine's initialize() looks 'mmssl.PretrainedBackbone' up from its root registry
    (switched to mmseg's in the mmseg scope): a scope prefix is found among the root's direct
    children only, where mmssl.registry lists its initializers."""
    from mmengine.registry import WEIGHT_INITIALIZERS
    from mmseg.registry import WEIGHT_INITIALIZERS as MMSEG_WEIGHT_INITIALIZERS
    for registry in (WEIGHT_INITIALIZERS, MMSEG_WEIGHT_INITIALIZERS):
        assert registry.get('mmssl.PretrainedBackbone') is mmssl.seg.PretrainedBackbone


MMSEG_R18 = dict(type='ResNet', depth=18, num_stages=4, out_indices=(0, 1, 2, 3),
                 strides=(1, 2, 2, 2), dilations=(1, 1, 1, 1), norm_cfg=dict(type='BN'),
                 style='pytorch', contract_dilation=False)


def test_resnet18_loads_every_tensor_and_gives_mmpretrains_features(tmp_path, layout):
    backbone = _resnet18_checkpoint()
    model = _build_mmseg(MMSEG_R18, _checkpoint(tmp_path, backbone, layout))
    assert _assert_loaded(model, backbone) == set(backbone)

    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours, reference = model(x), _mmpretrain_resnet18(backbone)(x)
    assert len(ours) == len(reference) == 4
    for a, b in zip(ours, reference):
        assert a.shape == b.shape and torch.allclose(a, b, rtol=1e-4, atol=1e-5)


def test_resnet18_in_the_dilated_fcn_geometry_loads_every_tensor(tmp_path):
    """FCN's output stride 8: strides (1, 2, 1, 1), dilations (1, 1, 2, 4); same weights."""
    backbone = _resnet18_checkpoint()
    cfg = dict(MMSEG_R18, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), contract_dilation=True)
    model = _build_mmseg(cfg, _checkpoint(tmp_path, backbone, 'extracted'))
    assert _assert_loaded(model, backbone) == set(backbone)
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 64, 64))[-1].shape == (1, 512, 8, 8)


def test_an_encoder_decoder_initialises_its_backbone_from_the_checkpoint(tmp_path):
    """Through the whole segmentor's init_weights (the backbone's is called by its parent)."""
    backbone = _resnet18_checkpoint()
    cfg = dict(type='EncoderDecoder', backbone=MMSEG_R18,
               decode_head=dict(type='FCNHead', in_channels=512, in_index=3, channels=16,
                                num_convs=1, num_classes=2, norm_cfg=dict(type='BN')))
    checkpoint = _checkpoint(tmp_path, backbone, 'training')
    cfg['backbone'] = dict(MMSEG_R18, init_cfg=dict(type='mmssl.PretrainedBackbone',
                                                    checkpoint=checkpoint))
    from mmseg.registry import MODELS  # its locations: mmseg.models, imported on first use
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg)
        model.init_weights()
    assert _assert_loaded(model.backbone, backbone) == set(backbone)


def test_children_do_not_draw_their_weights_again_after_the_load(tmp_path):
    """mmengine runs an init_cfg that is not 'Pretrained' before the children's own
    init_weights: a block with an init_cfg of its own would overwrite the loaded weights
    unless the initializer marks the children initialised."""
    from mmseg.registry import MODELS
    backbone = _resnet18_checkpoint()
    checkpoint = _checkpoint(tmp_path, backbone, 'extracted')
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(dict(MMSEG_R18, init_cfg=dict(type='mmssl.PretrainedBackbone',
                                                           checkpoint=checkpoint)))
        model.layer1[0].init_cfg = dict(type='Constant', val=0., layer='Conv2d')
        model.init_weights()
    assert _assert_loaded(model, backbone) == set(backbone)
    assert model.layer1[0].conv1.weight.abs().sum() > 0


@pytest.mark.parametrize('cls', ['ResNetV1c', 'ResNetV1d'])
def test_a_deep_stem_fails_naming_the_stem_keys(tmp_path, cls):
    checkpoint = _checkpoint(tmp_path, _resnet18_checkpoint(), 'extracted')
    with pytest.raises(ValueError) as error:
        _build_mmseg(dict(MMSEG_R18, type=cls), checkpoint)
    message = str(error.value)
    assert checkpoint in message and f'mmseg {cls}' in message
    assert 'stem.0.weight' in message or 'stem.* (' in message  # missing: the deep stem
    assert 'backbone.conv1.weight' in message and 'backbone.bn1.' in message  # unexpected
    assert "type='ResNet'" in message and '7x7' in message


def test_a_missing_key_fails_naming_it(tmp_path):
    backbone = _resnet18_checkpoint()
    del backbone['layer4.1.bn2.running_mean']
    checkpoint = _checkpoint(tmp_path, backbone, 'training')
    with pytest.raises(ValueError, match='1 missing key') as error:
        _build_mmseg(MMSEG_R18, checkpoint)
    message = str(error.value)
    assert checkpoint in message and 'layer4.1.bn2.running_mean' in message
    assert 'unexpected' not in message


def test_an_extra_key_fails_naming_it(tmp_path):
    backbone = _resnet18_checkpoint()
    backbone['layer5.0.conv1.weight'] = torch.zeros(4, 4, 3, 3)
    checkpoint = _checkpoint(tmp_path, backbone, 'extracted')
    with pytest.raises(ValueError, match='1 unexpected key') as error:
        _build_mmseg(MMSEG_R18, checkpoint)
    message = str(error.value)
    assert checkpoint in message and 'backbone.layer5.0.conv1.weight' in message
    assert 'missing' not in message


def test_a_cifar_stem_fails_naming_the_shape(tmp_path):
    """mmpretrain's ResNet_CIFAR (3x3 stem) has ResNet's keys but not its stem's shape."""
    from mmpretrain.models import ResNet_CIFAR
    checkpoint = _checkpoint(tmp_path, _randomised(ResNet_CIFAR(depth=18).state_dict(), 0),
                             'extracted')
    with pytest.raises(ValueError, match='1 shape mismatch') as error:
        _build_mmseg(MMSEG_R18, checkpoint)
    assert 'backbone.conv1.weight: checkpoint (64, 3, 3, 3), ResNet (64, 3, 7, 7)' in str(
        error.value)


def test_a_long_key_list_is_summarised_with_counts(tmp_path):
    backbone = {k: v for k, v in _resnet18_checkpoint().items() if not k.startswith('layer4.')}
    with pytest.raises(ValueError) as error:
        _build_mmseg(MMSEG_R18, _checkpoint(tmp_path, backbone, 'extracted'))
    assert '30 missing key(s)' in str(error.value) and 'layer4.* (30)' in str(error.value)


# ---- ViTs: an mmssl MaskedViT (mmpretrain's VisionTransformer's state dict) ---------------


def _vit_checkpoint(img_size: int = 32, patch_size: int = 8, layer_scale: float = 0.,
                    seed: int = 0) -> dict:
    """A MaskedViT with a final norm and a mask token (SimMIM-like), random tensors."""
    from mmssl.models.backbones import MaskedViT
    vit = MaskedViT(arch=TINY_VIT, img_size=img_size, patch_size=patch_size, out_type='raw',
                    mask_token=True, layer_scale_init_value=layer_scale)
    return _randomised(vit.state_dict(), seed)


def _mmpretrain_vit(backbone: dict, final_norm: bool):
    """mmpretrain's ViT giving the feature maps of blocks ``VIT_OUT``."""
    from mmpretrain.models import VisionTransformer
    layer_scale = 0.1 if 'layers.0.attn.gamma1.weight' in backbone else 0.
    model = VisionTransformer(arch=TINY_VIT, img_size=32, patch_size=8, out_type='featmap',
                              final_norm=final_norm, out_indices=VIT_OUT,
                              layer_scale_init_value=layer_scale)
    state = {k: v for k, v in backbone.items()
             if k != 'mask_token' and (final_norm or not k.startswith('ln1.'))}
    model.load_state_dict(state, strict=True)
    model.eval()
    return model


def _mae(img_size: int = 32, final_norm: bool = False) -> dict:
    return dict(type='MAE', img_size=(img_size, img_size), patch_size=8, embed_dims=32,
                num_layers=4, num_heads=2, mlp_ratio=4, out_indices=VIT_OUT,
                norm_cfg=dict(type='LN', eps=1e-6), init_values=1.0, drop_path_rate=0.,
                final_norm=final_norm)


def _mmseg_vit(img_size: int = 32, final_norm: bool = False, **kwargs) -> dict:
    return dict(dict(type='VisionTransformer', img_size=(img_size, img_size), patch_size=8,
                     embed_dims=32, num_layers=4, num_heads=2, mlp_ratio=4,
                     out_indices=VIT_OUT, patch_bias=True, norm_cfg=dict(type='LN', eps=1e-6),
                     final_norm=final_norm, drop_path_rate=0.), **kwargs)


def _assert_same_features(model, backbone: dict, final_norm: bool) -> None:
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours, reference = model(x), _mmpretrain_vit(backbone, final_norm)(x)
    assert len(ours) == len(reference) == len(VIT_OUT)
    for a, b in zip(ours, reference):
        assert a.shape == b.shape == (2, 32, 4, 4)
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5), (a - b).abs().max()


def _dropped(backbone: dict, final_norm: bool) -> set:
    patterns = _VIT_PRETRAINING_ONLY + ([] if final_norm else [_VIT_FINAL_NORM])
    return {k for k in backbone if any(re.fullmatch(p, k) for p in patterns)}


@pytest.mark.parametrize('layer_scale,final_norm', [(0., False), (0.1, False), (0., True)],
                         ids=['plain', 'layer-scale', 'final-norm'])
def test_mae_loads_every_tensor_and_gives_mmpretrains_features(
        tmp_path, layout, layer_scale, final_norm):
    """mmseg MAE (the MAE/BEiT segmentation backbone): mmpretrain's names, layer scale to
    gamma_1/gamma_2 (ones when the ViT has none: init_values=1.0), no relative position
    bias (zeros), the final norm and mask token dropped unless the module has them."""
    backbone = _vit_checkpoint(layer_scale=layer_scale)
    model = _build_mmseg(_mae(final_norm=final_norm), _checkpoint(tmp_path, backbone, layout))
    renamed = {f'layers.{i}.gamma_{j}': f'layers.{i}.{part}.gamma{j}.weight'
               for i in range(4) for j, part in ((1, 'attn'), (2, 'ffn'))}
    own = [r'layers\.\d+\.attn\.relative_position_(bias_table|index)']
    if not layer_scale:
        own.append(r'layers\.\d+\.gamma_[12]')
    used = _assert_loaded(model, backbone, renamed, own)
    assert used | _dropped(backbone, final_norm) == set(backbone)
    assert 'mask_token' not in used and ('ln1.weight' in used) == final_norm
    state = model.state_dict()
    for i in range(4):
        assert not state[f'layers.{i}.attn.relative_position_bias_table'].any()
        if not layer_scale:
            assert torch.equal(state[f'layers.{i}.gamma_1'], torch.ones(32))
    _assert_same_features(model, backbone, final_norm)


def test_mae_keeps_its_own_layer_scale_when_the_checkpoint_has_none(tmp_path):
    """init_values other than 1.0 are kept (the config's choice; a warning is logged)."""
    model = _build_mmseg(dict(_mae(), init_values=0.1),
                         _checkpoint(tmp_path, _vit_checkpoint(), 'extracted'))
    for i in range(4):
        for j in (1, 2):
            assert torch.allclose(model.state_dict()[f'layers.{i}.gamma_{j}'],
                                  torch.full((32, ), 0.1))


def test_a_final_norm_missing_from_the_checkpoint_fails_naming_it(tmp_path):
    backbone = {k: v for k, v in _vit_checkpoint().items() if not k.startswith('ln1.')}
    checkpoint = _checkpoint(tmp_path, backbone, 'extracted')
    with pytest.raises(ValueError, match='2 missing key') as error:
        _build_mmseg(_mae(final_norm=True), checkpoint)
    message = str(error.value)
    assert 'ln1.weight, ln1.bias' in message and 'set final_norm=False' in message


@pytest.mark.parametrize('final_norm', [False, True])
def test_mmseg_vit_loads_every_tensor_and_gives_mmpretrains_features(tmp_path, final_norm):
    """mmseg VisionTransformer: qkv/proj -> mmcv's attn.attn.in_proj_*/out_proj.*."""
    backbone = _vit_checkpoint()
    model = _build_mmseg(_mmseg_vit(final_norm=final_norm),
                         _checkpoint(tmp_path, backbone, 'extracted'))
    renamed = {}
    for i in range(4):
        for p in ('weight', 'bias'):
            renamed[f'layers.{i}.attn.attn.in_proj_{p}'] = f'layers.{i}.attn.qkv.{p}'
            renamed[f'layers.{i}.attn.attn.out_proj.{p}'] = f'layers.{i}.attn.proj.{p}'
    used = _assert_loaded(model, backbone, renamed)
    assert used | _dropped(backbone, final_norm) == set(backbone)
    _assert_same_features(model, backbone, final_norm)


def test_mmseg_vit_without_patch_bias_fails_with_the_fix(tmp_path):
    """mmseg's VisionTransformer defaults to patch_bias=False: the bias is not dropped."""
    checkpoint = _checkpoint(tmp_path, _vit_checkpoint(), 'extracted')
    with pytest.raises(ValueError, match='1 unexpected key') as error:
        _build_mmseg(_mmseg_vit(patch_bias=False), checkpoint)
    message = str(error.value)
    assert checkpoint in message and 'backbone.patch_embed.projection.bias' in message
    assert 'patch_bias=True' in message


def test_mmseg_vit_with_a_layer_scale_checkpoint_fails(tmp_path):
    checkpoint = _checkpoint(tmp_path, _vit_checkpoint(layer_scale=0.1), 'extracted')
    with pytest.raises(ValueError, match='8 unexpected key') as error:
        _build_mmseg(_mmseg_vit(), checkpoint)
    assert 'backbone.layers.0.attn.gamma1.weight' in str(error.value)
    assert "type='MAE'" in str(error.value)


@pytest.mark.parametrize('cfg', [_mae(img_size=64), _mmseg_vit(img_size=64)],
                         ids=['MAE', 'VisionTransformer'])
def test_a_224px_checkpoint_loads_into_a_larger_backbone(tmp_path, cfg):
    """A ViT pretrained at 224 px (14 x 14 patches of 16) into a 256-px backbone (16 x 16):
    pos_embed bicubic-resized, the class token's entry kept, the other tensors as is."""
    from mmpretrain.models.utils import resize_pos_embed
    backbone = _vit_checkpoint(img_size=224, patch_size=16)
    cfg = dict(cfg, img_size=(256, 256), patch_size=16)
    model = _build_mmseg(cfg, _checkpoint(tmp_path, backbone, 'training'))
    pos_embed = model.state_dict()['pos_embed']
    assert pos_embed.shape == (1, 1 + 16 * 16, 32)
    expected = resize_pos_embed(backbone['pos_embed'], (14, 14), (16, 16), 'bicubic', 1)
    assert torch.allclose(pos_embed, expected)
    assert torch.equal(pos_embed[:, 0], backbone['pos_embed'][:, 0])
    assert torch.equal(model.state_dict()['patch_embed.projection.weight'],
                       backbone['patch_embed.projection.weight'])
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 256, 256))[-1].shape == (1, 32, 16, 16)


def test_beit_and_unknown_backbones_fail_listing_the_supported_ones(tmp_path):
    checkpoint = _checkpoint(tmp_path, _vit_checkpoint(), 'extracted')
    beit = dict(_mae(), type='BEiT')
    for key in ('init_values', 'final_norm'):
        beit.pop(key)
    with pytest.raises(ValueError, match="cannot load into mmseg BEiT.*type='MAE'"):
        _build_mmseg(beit, checkpoint)
    with pytest.raises(ValueError) as error:
        _build_mmseg(dict(type='MobileNetV2', widen_factor=0.25), checkpoint)
    message = str(error.value)
    assert checkpoint in message and 'MobileNetV2' in message
    assert 'supported mmseg backbones: MAE, VisionTransformer, ResNet' in message
