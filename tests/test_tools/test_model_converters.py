"""tools/model_converters and mmssl/utils/checkpoint_{loading,layouts,export}.py.

Official checkpoints are built here independently of the converter: torchvision's ResNet-18
and a tiny ViT written with timm's module names (``TimmViT``), wrapped the way each
release wraps them. Every converted file is loaded strictly into mmpretrain's backbone, and
every tensor is compared with its source through a name table written out by hand.
"""
import argparse
import os
import os.path as osp
import pickle
import subprocess
import sys
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import pytest
import torch
import torchvision
from mmengine.config import Config
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint_with_prefix
from mmpretrain.models import ResNet, VisionTransformer
from torch import nn

from mmssl.registry import MODELS
from mmssl.utils import (UnsafeCheckpointError, detect_layout, extract_backbone,
                         extract_backbone_file, import_checkpoint, import_checkpoint_file,
                         load_state_dict_file, summarize_keys)
from tests._helpers import DEMO_CONFIG, REPO_ROOT, resnet18, tiny_run_overrides
from tools.model_converters import extract_backbone as extract_tool
from tools.model_converters import import_official as import_tool


def run_tool(*args) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, f'{args} failed:\n{proc.stderr[-3000:]}'
    return proc


def randomize_(module: nn.Module, seed: int) -> nn.Module:
    """Distinct random values in every tensor (BN variances positive, counters too)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if not tensor.is_floating_point():
                tensor.copy_(torch.randint(1, 10**6, tensor.shape, generator=gen))
            elif name.endswith('running_var'):
                tensor.copy_(torch.rand(tensor.shape, generator=gen) + 0.5)
            else:
                tensor.copy_(torch.randn(tensor.shape, generator=gen) * 0.1)
    return module


def prefixed(prefix: str, state_dict: dict) -> OrderedDict:
    return OrderedDict((prefix + k, v) for k, v in state_dict.items())


def strip_backbone(state_dict: dict) -> OrderedDict:
    assert all(k.startswith('backbone.') for k in state_dict), list(state_dict)[:5]
    return OrderedDict((k[len('backbone.'):], v) for k, v in state_dict.items())


# ------------------------------------------------------------------ the official models

def tv_resnet18(seed: int, fc: nn.Module = None) -> nn.Module:
    """torchvision's ResNet-18; ``fc`` replaces the classifier (MoCo's projector)."""
    model = torchvision.models.resnet18(weights=None)
    if fc is not None:
        model.fc = fc
    return randomize_(model, seed).eval()


def tv_features(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    return model.layer4(model.layer3(model.layer2(model.layer1(x))))


def mlp(*dims: int, bn: bool = False) -> nn.Sequential:
    layers = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(dims) - 2:
            layers += [nn.BatchNorm1d(b), nn.ReLU()] if bn else [nn.ReLU()]
    return nn.Sequential(*layers)


class TimmAttention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        attn = (q @ k.transpose(-2, -1) * (c // self.heads)**-0.5).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class TimmLayerScale(nn.Module):
    def __init__(self, dim: int, init: float):
        super().__init__()
        self.gamma = nn.Parameter(init * torch.ones(dim))

    def forward(self, x):
        return x * self.gamma


class TimmMlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class TimmBlock(nn.Module):
    def __init__(self, dim: int, heads: int, hidden: int, layer_scale=None):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = TimmAttention(dim, heads)
        self.ls1 = TimmLayerScale(dim, layer_scale) if layer_scale else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = TimmMlp(dim, hidden)
        self.ls2 = TimmLayerScale(dim, layer_scale) if layer_scale else nn.Identity()

    def forward(self, x):
        x = x + self.ls1(self.attn(self.norm1(x)))
        return x + self.ls2(self.mlp(self.norm2(x)))


class TimmViT(nn.Module):
    """A ViT with the module names of timm's (and DINO's, MoCo v3's, MAE's) ViT."""

    def __init__(self, seed: int, global_pool: str = 'token', layer_scale=None,
                 head: nn.Module = None, dim: int = 32, depth: int = 2, heads: int = 2,
                 hidden: int = 64, img_size: int = 32, patch_size: int = 16):
        super().__init__()
        self.global_pool = global_pool
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(3, dim, patch_size, patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + (img_size // patch_size)**2, dim))
        self.blocks = nn.ModuleList(
            TimmBlock(dim, heads, hidden, layer_scale) for _ in range(depth))
        avg = global_pool == 'avg'
        self.norm = nn.Identity() if avg else nn.LayerNorm(dim, eps=1e-6)
        self.fc_norm = nn.LayerNorm(dim, eps=1e-6) if avg else nn.Identity()
        self.head = head if head is not None else nn.Identity()
        randomize_(self, seed).eval()

    def features(self, x):
        x = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(len(x), -1, -1), x], dim=1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        x = self.norm(x)
        return self.fc_norm(x[:, 1:].mean(dim=1)) if self.global_pool == 'avg' else x[:, 0]


# timm -> mmpretrain, written out by hand from mmpretrain's VisionTransformer state dict
# (the converter has its own table; this one checks it).
TIMM_TOP = {
    'cls_token': 'cls_token',
    'pos_embed': 'pos_embed',
    'patch_embed.proj.weight': 'patch_embed.projection.weight',
    'patch_embed.proj.bias': 'patch_embed.projection.bias',
    'norm.weight': 'ln1.weight',
    'norm.bias': 'ln1.bias',
    'fc_norm.weight': 'ln2.weight',
    'fc_norm.bias': 'ln2.bias',
}
TIMM_BLOCK = {
    'norm1.weight': 'ln1.weight',
    'norm1.bias': 'ln1.bias',
    'attn.qkv.weight': 'attn.qkv.weight',
    'attn.qkv.bias': 'attn.qkv.bias',
    'attn.proj.weight': 'attn.proj.weight',
    'attn.proj.bias': 'attn.proj.bias',
    'ls1.gamma': 'attn.gamma1.weight',
    'norm2.weight': 'ln2.weight',
    'norm2.bias': 'ln2.bias',
    'mlp.fc1.weight': 'ffn.layers.0.0.weight',
    'mlp.fc1.bias': 'ffn.layers.0.0.bias',
    'mlp.fc2.weight': 'ffn.layers.1.weight',
    'mlp.fc2.bias': 'ffn.layers.1.bias',
    'ls2.gamma': 'ffn.gamma2.weight',
}


def timm_to_mmpretrain(name: str) -> str:
    if name.startswith('blocks.'):
        _, index, rest = name.split('.', 2)
        return f'layers.{index}.{TIMM_BLOCK[rest]}'
    return TIMM_TOP[name]


def mm_vit(**kwargs) -> VisionTransformer:
    model = VisionTransformer(
        arch=dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64),
        img_size=32, patch_size=16, **kwargs)
    model.eval()  # mmpretrain's backbones' train() returns None, not the module
    return model


def mm_resnet18() -> ResNet:
    model = ResNet(depth=18)
    model.eval()
    return model


# ------------------------------------------------------------------ the official layouts

@dataclass
class Release:
    checkpoint: object  # what the official code saves
    source: nn.Module  # the network whose backbone must come out
    layout: str  # the layout to name explicitly
    detected: str  # what layout='auto' must find
    target: Callable[[], nn.Module]  # mmpretrain's backbone to load it into

    @property
    def is_vit(self) -> bool:
        return isinstance(self.source, TimmViT)

    def source_backbone(self) -> OrderedDict:
        """The tensors that must come out, under their official names."""
        drop = 'head' if self.is_vit else 'fc'
        return OrderedDict((k, v) for k, v in self.source.state_dict().items()
                           if k.split('.')[0] != drop)

    def mmpretrain_name(self, name: str) -> str:
        return timm_to_mmpretrain(name) if self.is_vit else name  # torchvision = mmpretrain

    def features(self, x):
        return self.source.features(x) if self.is_vit else tv_features(self.source, x)


def _sgd_state(model: nn.Module) -> dict:
    return torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9).state_dict()


def moco_release() -> Release:
    """facebookresearch/moco main_moco.py: DDP-wrapped MoCo, MLP projector in fc (v2)."""
    query = tv_resnet18(1, fc=mlp(512, 512, 128))
    key = tv_resnet18(2, fc=mlp(512, 512, 128))
    state = OrderedDict(prefixed('module.encoder_q.', query.state_dict()))
    state.update(prefixed('module.encoder_k.', key.state_dict()))
    state['module.queue'] = torch.randn(128, 64)
    state['module.queue_ptr'] = torch.zeros(1, dtype=torch.long)
    checkpoint = dict(epoch=200, arch='resnet18', state_dict=state, optimizer=_sgd_state(query))
    return Release(checkpoint, query, 'moco', 'moco', mm_resnet18)


def mocov3_resnet_release() -> Release:
    """facebookresearch/moco-v3: base/momentum encoders (projector in fc), predictor."""
    base = tv_resnet18(3, fc=mlp(512, 256, 64, bn=True))
    momentum = tv_resnet18(4, fc=mlp(512, 256, 64, bn=True))
    predictor = randomize_(mlp(64, 256, 64, bn=True), 5)
    state = prefixed('module.base_encoder.', base.state_dict())
    state.update(prefixed('module.momentum_encoder.', momentum.state_dict()))
    state.update(prefixed('module.predictor.', predictor.state_dict()))
    checkpoint = dict(epoch=100, arch='resnet18', state_dict=state, optimizer=_sgd_state(base),
                      scaler=dict(scale=65536.0, growth_factor=2.0, _growth_tracker=10))
    return Release(checkpoint, base, 'mocov3', 'mocov3', mm_resnet18)


def mocov3_vit_release() -> Release:
    """moco-v3 with a ViT: timm names, the projector replaces ``head``."""
    base = TimmViT(6, head=mlp(32, 64, 16, bn=True))
    momentum = TimmViT(7, head=mlp(32, 64, 16, bn=True))
    state = prefixed('module.base_encoder.', base.state_dict())
    state.update(prefixed('module.momentum_encoder.', momentum.state_dict()))
    state.update(prefixed('module.predictor.', randomize_(mlp(16, 64, 16, bn=True), 8)
                          .state_dict()))
    checkpoint = dict(epoch=300, arch='vit_small', state_dict=state)
    return Release(checkpoint, base, 'mocov3', 'mocov3', mm_vit)


def dino_backbone_release() -> Release:
    """DINO's released backbone file (dino_deitsmall16_pretrain.pth): a bare timm ViT."""
    teacher = TimmViT(9)
    return Release(teacher.state_dict(), teacher, 'dino', 'timm_vit', mm_vit)


def _dino_head(seed: int) -> nn.Module:
    head = nn.Module()
    head.mlp = randomize_(mlp(32, 64, 16), seed)
    head.last_layer = nn.utils.parametrizations.weight_norm(nn.Linear(16, 100, bias=False))
    return head


def dino_full_vit_release() -> Release:
    """DINO's full checkpoint: teacher (not DDP-wrapped for a ViT), student (DDP), args."""
    teacher, student = TimmViT(10), TimmViT(11)
    checkpoint = dict(
        student=dict(prefixed('module.backbone.', student.state_dict()),
                     **prefixed('module.head.', _dino_head(12).state_dict())),
        teacher=dict(prefixed('backbone.', teacher.state_dict()),
                     **prefixed('head.', _dino_head(13).state_dict())),
        optimizer=_sgd_state(student), epoch=100,
        args=argparse.Namespace(arch='vit_small', patch_size=16, out_dim=65536),
        dino_loss=dict(center=torch.randn(1, 100)))
    return Release(checkpoint, teacher, 'dino', 'dino', mm_vit)


def dino_full_resnet_release() -> Release:
    """DINO with a ResNet: the teacher has BN, so it is DDP-wrapped (module.backbone.*)."""
    teacher = tv_resnet18(14, fc=nn.Identity())
    student = tv_resnet18(15, fc=nn.Identity())
    checkpoint = dict(
        student=dict(prefixed('module.backbone.', student.state_dict()),
                     **prefixed('module.head.', _dino_head(16).state_dict())),
        teacher=dict(prefixed('module.backbone.', teacher.state_dict()),
                     **prefixed('module.head.', _dino_head(17).state_dict())),
        epoch=100, args=argparse.Namespace(arch='resnet50'))
    return Release(checkpoint, teacher, 'dino', 'dino', mm_resnet18)


def mae_release() -> Release:
    """facebookresearch/mae: {'model': encoder + mask_token + decoder_*}, args."""
    encoder = TimmViT(18)
    decoder = randomize_(nn.ModuleList([TimmBlock(16, 2, 32)]), 19)
    model = OrderedDict(encoder.state_dict())
    model['mask_token'] = torch.randn(1, 1, 16)
    model.update(prefixed('decoder_embed.', randomize_(nn.Linear(32, 16), 20).state_dict()))
    model['decoder_pos_embed'] = torch.randn(1, 5, 16)
    model.update(prefixed('decoder_blocks.', decoder.state_dict()))
    model.update(prefixed('decoder_norm.', randomize_(nn.LayerNorm(16), 21).state_dict()))
    model.update(prefixed('decoder_pred.', randomize_(nn.Linear(16, 768), 22).state_dict()))
    checkpoint = dict(model=model, epoch=799, args=argparse.Namespace(model='mae_vit_base'))
    return Release(checkpoint, encoder, 'mae', 'mae', mm_vit)


def torchvision_release() -> Release:
    model = tv_resnet18(23)
    return Release(model.state_dict(), model, 'torchvision', 'torchvision',
                   mm_resnet18)


def timm_avgpool_layerscale_release() -> Release:
    """A timm ViT with global average pooling (fc_norm) and LayerScale."""
    model = TimmViT(24, global_pool='avg', layer_scale=0.1, head=nn.Linear(32, 10))
    return Release(model.state_dict(), model, 'timm_vit', 'timm_vit',
                   lambda: mm_vit(final_norm=False, out_type='avg_featmap',
                                  layer_scale_init_value=0.1))


RELEASES = [moco_release, mocov3_resnet_release, mocov3_vit_release, dino_backbone_release,
            dino_full_vit_release, dino_full_resnet_release, mae_release, torchvision_release,
            timm_avgpool_layerscale_release]


@pytest.mark.parametrize('make_release', RELEASES, ids=lambda f: f.__name__[:-len('_release')])
def test_an_official_release_round_trips_into_mmpretrain(make_release, tmp_path):
    release = make_release()
    path = str(tmp_path / 'official.pth')
    torch.save(release.checkpoint, path)

    state_dict = load_state_dict_file(path)
    assert detect_layout(state_dict) == release.detected
    converted = import_checkpoint(state_dict, release.layout)
    assert list(import_checkpoint(state_dict, 'auto')) == list(converted)

    target = release.target()
    target.load_state_dict(strip_backbone(converted), strict=True)
    loaded = target.state_dict()
    source = release.source_backbone()
    assert len(loaded) == len(source)
    for name, tensor in source.items():
        assert torch.equal(loaded[release.mmpretrain_name(name)], tensor), name
    # and the network computes what the official one does
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(target(x)[-1], release.features(x), rtol=1e-4, atol=1e-5)


def test_the_import_tool_writes_a_file_mmpretrain_and_mmdet_load(tmp_path):
    release = moco_release()
    src, dst = str(tmp_path / 'moco_v2_800ep_pretrain.pth.tar'), str(tmp_path / 'r18.pth')
    torch.save(release.checkpoint, src)
    proc = run_tool('tools/model_converters/import_official.py', src, dst)
    assert 'layout moco: wrote 120 tensors' in proc.stdout
    assert ('dropped 130: module.encoder_q.fc.* (4), module.encoder_k.* (124), module.queue, '
            'module.queue_ptr') in proc.stdout

    written = torch.load(dst, map_location='cpu', weights_only=True)
    assert written['meta'] == dict(source=src, layout='moco')
    pretrained = dict(type='Pretrained', checkpoint=dst, prefix='backbone.')
    from mmdet.models.backbones import ResNet as DetResNet
    for backbone in (ResNet(depth=18, init_cfg=pretrained),
                     DetResNet(depth=18, init_cfg=pretrained)):
        backbone.init_weights()
        loaded = backbone.state_dict()
        assert loaded.keys() == release.source_backbone().keys()
        for name, tensor in release.source_backbone().items():
            assert torch.equal(loaded[name], tensor), (type(backbone), name)


# ------------------------------------------------------------------ mmssl checkpoints

def build_mmssl_model(backbone=None, neck_in=None) -> nn.Module:
    cfg = Config.fromfile(DEMO_CONFIG)
    if backbone is not None:
        cfg.model.backbone = backbone
        cfg.model.neck.in_channels = neck_in
    cfg.model.dictionary.queue_length = 64
    model = MODELS.build(cfg.model)
    randomize_(model.backbone, 30)
    randomize_(model.momentum_backbone, 31)  # the key encoder must not come out
    randomize_(model.neck, 32)
    return model, cfg


def test_extract_backbone_of_the_mocov2_demo_loads_into_an_image_classifier(tmp_path):
    model, cfg = build_mmssl_model()
    src, dst = str(tmp_path / 'epoch_2.pth'), str(tmp_path / 'backbone.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, src)
    report = extract_backbone_file(src, dst)
    # data_preprocessor.*: the device views' generator state (exact resume)
    assert report.dropped_summary() == ['data_preprocessor.*', 'neck.* (8)',
                                        'momentum_backbone.* (120)', 'momentum_neck.* (8)',
                                        'dictionary.* (2)']
    assert torch.load(dst, weights_only=True)['meta'] == dict(
        source=src, source_prefix='backbone.', algorithm=None)

    def classifier(init_cfg=None):
        return MODELS.build(dict(
            type='ImageClassifier', backbone=dict(cfg.model.backbone, init_cfg=init_cfg),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=10, in_channels=128)))

    online = model.backbone.state_dict()
    key_encoder = model.momentum_backbone.state_dict()
    # init_cfg=Pretrained with prefix: no key missing or unexpected...
    prefixed_keys = _load_checkpoint_with_prefix('backbone.', dst).keys()
    fresh = classifier(dict(type='Pretrained', checkpoint=dst, prefix='backbone.'))
    assert prefixed_keys == fresh.backbone.state_dict().keys()
    fresh.init_weights()
    # ... and the online backbone's values, not the key encoder's
    for name, tensor in fresh.backbone.state_dict().items():
        assert torch.equal(tensor, online[name]), name
        if tensor.is_floating_point():
            assert not torch.equal(tensor, key_encoder[name]), name
    # plain loading of the whole file into a classifier: only the head is missing
    plain = classifier()
    result = plain.load_state_dict(torch.load(dst, weights_only=True)['state_dict'],
                                   strict=False)
    assert result.unexpected_keys == []
    assert result.missing_keys and all(k.startswith('head.') for k in result.missing_keys)
    assert all(torch.equal(t, online[k]) for k, t in plain.backbone.state_dict().items())

    # the momentum (key) encoder, when asked for
    teacher = extract_backbone(model.state_dict(), prefix='momentum_backbone.')
    assert strip_backbone(teacher).keys() == key_encoder.keys()
    assert all(torch.equal(t, key_encoder[k]) for k, t in strip_backbone(teacher).items())


def test_extract_backbone_loads_into_mmdet_resnet(tmp_path):
    from mmdet.models.backbones import ResNet as DetResNet
    model, cfg = build_mmssl_model(backbone=resnet18(), neck_in=512)
    src, dst = str(tmp_path / 'epoch_200.pth'), str(tmp_path / 'r18_backbone.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {'cfg': cfg.pretty_text}}, src)
    extract_backbone_file(src, dst)
    assert torch.load(dst, weights_only=True)['meta']['algorithm'] == 'MoCo'

    DetResNet(depth=18).load_state_dict(_load_checkpoint_with_prefix('backbone.', dst),
                                        strict=True)  # no missing or unexpected key
    detector_backbone = DetResNet(
        depth=18, init_cfg=dict(type='Pretrained', checkpoint=dst, prefix='backbone.'))
    detector_backbone.init_weights()
    online = model.backbone.state_dict()
    assert detector_backbone.state_dict().keys() == online.keys()
    for name, tensor in detector_backbone.state_dict().items():
        assert torch.equal(tensor, online[name]), name


def test_extract_backbone_tool_reads_a_real_training_checkpoint(tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict(tiny_run_overrides(str(tmp_path / 'run'), images=16, batch=8))
    Runner.from_cfg(cfg).train()  # 2 iterations, epoch_1.pth
    src, dst = str(tmp_path / 'run' / 'epoch_1.pth'), str(tmp_path / 'backbone.pth')
    # the runner pickles its log (HistoryBuffer, numpy): torch's weights_only refuses it...
    with pytest.raises(pickle.UnpicklingError):
        torch.load(src, weights_only=True)
    # ... and mmssl reads it with weights_only=True, the log left out
    proc = run_tool('tools/model_converters/extract_backbone.py', src, dst)
    assert 'wrote 120 tensors (backbone.*, from backbone.*)' in proc.stdout
    assert 'momentum_backbone.* (120)' in proc.stdout

    trained = torch.load(src, map_location='cpu', weights_only=False)['state_dict']
    written = torch.load(dst, map_location='cpu', weights_only=True)
    assert written['meta']['algorithm'] == 'MoCo'
    assert written['state_dict'].keys() == {k for k in trained if k.startswith('backbone.')}
    for key, tensor in written['state_dict'].items():
        assert torch.equal(tensor, trained[key]), key


# ------------------------------------------------------------------ refusals and errors

class RunsCode:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


@pytest.mark.parametrize('writer', ['torch.save', 'pickle.dump'])
def test_a_pickle_that_carries_code_is_refused(writer, tmp_path):
    marker, path = tmp_path / 'code_ran', str(tmp_path / 'evil.pth')
    checkpoint = {'state_dict': {'w': torch.zeros(2)}, 'meta': RunsCode(str(marker))}
    if writer == 'torch.save':
        torch.save(checkpoint, path)
    else:
        with open(path, 'wb') as f:
            pickle.dump(checkpoint, f)
    with pytest.raises(UnsafeCheckpointError) as error:
        load_state_dict_file(path)
    message = str(error.value)
    assert path in message and 'system' in message and 'refuses to unpickle code' in message
    assert not marker.exists()
    with pytest.raises(SystemExit, match='refuses to unpickle code'):
        import_tool.main([path, str(tmp_path / 'out.pth')])
    assert not marker.exists() and not osp.exists(tmp_path / 'out.pth')
    if writer == 'torch.save':  # the payload is real: an unsafe load runs it
        torch.load(path, weights_only=False)
        assert marker.exists()


def test_bad_inputs_are_named_in_the_errors(tmp_path, capsys):
    missing = str(tmp_path / 'no_such.pth')
    with pytest.raises(FileNotFoundError, match='no_such.pth'):
        load_state_dict_file(missing)
    with pytest.raises(SystemExit, match='checkpoint file not found: .*no_such.pth'):
        extract_tool.main([missing, str(tmp_path / 'out.pth')])

    text = tmp_path / 'notes.pth'
    text.write_text('not a checkpoint\n')
    with pytest.raises(ValueError, match=f'{text} is not a PyTorch checkpoint'):
        load_state_dict_file(str(text))

    official = str(tmp_path / 'r18.pth')
    torch.save(tv_resnet18(0).state_dict(), official)
    with pytest.raises(ValueError, match="unknown checkpoint layout 'simclr'.*moco, mocov3"):
        import_checkpoint(load_state_dict_file(official), 'simclr')
    with pytest.raises(ValueError, match="unknown checkpoint layout 'simclr'"):
        import_checkpoint_file(official, str(tmp_path / 'out.pth'), layout='simclr')
    with pytest.raises(SystemExit):
        import_tool.main([official, str(tmp_path / 'out.pth'), '--layout', 'simclr'])
    assert "invalid choice: 'simclr'" in capsys.readouterr().err
    # a layout that does not fit the file
    with pytest.raises(ValueError, match="no ViT encoder at the top level for layout 'mae'"):
        import_checkpoint(load_state_dict_file(official), 'mae')

    unknown = str(tmp_path / 'unknown.pth')
    torch.save({'state_dict': {'encoder.w': torch.zeros(1)}}, unknown)
    with pytest.raises(ValueError, match=r"unknown.pth: cannot tell the layout(.|\n)*"
                                         r"  moco: (.|\n)*  mae: "):
        import_checkpoint_file(unknown, str(tmp_path / 'out.pth'))
    with pytest.raises(ValueError, match="no key starts with 'target.'"):
        extract_backbone({'backbone.w': torch.zeros(1)}, prefix='target.')
    assert not osp.exists(tmp_path / 'out.pth')


def test_keys_outside_a_layout_are_errors_not_silently_dropped():
    state = prefixed('module.encoder_q.', tv_resnet18(0).state_dict())
    state['module.encoder_q.layer1.0.se.fc1.weight'] = torch.zeros(4, 64)
    with pytest.raises(ValueError, match=r"'module.encoder_q.layer1.0.se.fc1.weight': no "
                                         r'mmpretrain resnet parameter'):
        import_checkpoint(state, 'moco')
    mmssl_state = prefixed('backbone.', tv_resnet18(0).state_dict())
    mmssl_state['momentum_backbone.conv1.weight'] = torch.zeros(1)
    with pytest.raises(ValueError, match='use tools/model_converters/extract_backbone.py'):
        import_checkpoint(mmssl_state)


def test_summarize_keys_groups_by_the_shortest_distinguishing_prefix():
    kept = ['module.encoder_q.conv1.weight', 'module.encoder_q.layer1.0.bn1.weight']
    dropped = ['module.encoder_q.fc.0.weight', 'module.encoder_q.fc.0.bias',
               'module.encoder_k.conv1.weight', 'module.encoder_k.fc.0.weight', 'module.queue']
    assert summarize_keys(dropped, kept) == [
        'module.encoder_q.fc.* (2)', 'module.encoder_k.* (2)', 'module.queue']
