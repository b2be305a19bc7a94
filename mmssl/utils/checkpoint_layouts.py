"""The key layouts of other frameworks' released checkpoints, and their conversion to
mmssl's *backbone layout*: ``backbone.`` + mmpretrain's parameter names.

A state dict in the backbone layout loads without missing or unexpected keys

- with ``init_cfg=dict(type='Pretrained', checkpoint=FILE, prefix='backbone.')`` on an
  mmpretrain or mmdet backbone, and
- with ``load_checkpoint(model, FILE)`` into an mmpretrain ``ImageClassifier`` or an
  mmdet detector (both keep their backbone as ``model.backbone``).

Names. mmpretrain's ``ResNet`` uses torchvision's names (``conv1``, ``bn1``,
``layerX.Y.convZ``, ``downsample.0/1``); its ``VisionTransformer`` renames timm's (see
``_TIMM_VIT_TO_MMPRETRAIN``; the final norm becomes ``ln1``, the same name as each
block's first norm, and ``fc_norm`` of global average pooling becomes ``ln2``, which
exists with ``out_type='avg_featmap'`` only).
"""
import re
from collections import OrderedDict
from typing import Optional

from torch import Tensor

LAYOUTS = ('moco', 'mocov3', 'dino', 'mae', 'torchvision', 'timm_vit')
LAYOUT_HELP = {
    'moco': "MoCo v1/v2 (facebookresearch/moco): 'state_dict' with module.encoder_q.* "
            '(torchvision ResNet), module.encoder_k.*, module.queue',
    'mocov3': "MoCo v3 (facebookresearch/moco-v3): 'state_dict' with module.base_encoder.* "
              '(torchvision ResNet or timm ViT), module.momentum_encoder.*, module.predictor.*',
    'dino': 'DINO (facebookresearch/dino): a bare backbone (timm ViT or torchvision ResNet), '
            "or a full checkpoint whose 'teacher' holds backbone.* and head.*",
    'mae': "MAE (facebookresearch/mae): 'model' with a timm ViT encoder, mask_token, decoder_*",
    'torchvision': 'a plain torchvision ResNet state dict (fc.* dropped)',
    'timm_vit': 'a plain timm VisionTransformer state dict (head.* dropped)',
}


def check_layout(layout: str) -> None:
    """Raise ValueError unless ``layout`` is one of :data:`LAYOUTS` or ``'auto'``."""
    if layout != 'auto' and layout not in LAYOUTS:
        raise ValueError(f'unknown checkpoint layout {layout!r}; known layouts: '
                         f"{', '.join(LAYOUTS)} (or 'auto')")


_BN = r'(weight|bias|running_mean|running_var|num_batches_tracked)'
_RESNET_KEY = re.compile(rf'conv1\.weight|bn1\.{_BN}|layer[1-4]\.\d+\.'
                         rf'(conv[1-3]\.weight|bn[1-3]\.{_BN}|downsample\.0\.weight|'
                         rf'downsample\.1\.{_BN})')
_RESNET_DROPPED = re.compile(r'fc\..*')  # the classifier, or MoCo's projection MLP

_W = r'(weight|bias)'
_TIMM_VIT_TO_MMPRETRAIN = [
    (r'cls_token', 'cls_token'),
    (r'pos_embed', 'pos_embed'),
    (rf'patch_embed\.proj\.{_W}', r'patch_embed.projection.\1'),
    (rf'norm_pre\.{_W}', r'pre_norm.\1'),
    (rf'blocks\.(\d+)\.norm1\.{_W}', r'layers.\1.ln1.\2'),
    (rf'blocks\.(\d+)\.attn\.(qkv|proj)\.{_W}', r'layers.\1.attn.\2.\3'),
    (r'blocks\.(\d+)\.ls1\.gamma', r'layers.\1.attn.gamma1.weight'),
    (rf'blocks\.(\d+)\.norm2\.{_W}', r'layers.\1.ln2.\2'),
    (rf'blocks\.(\d+)\.mlp\.fc1\.{_W}', r'layers.\1.ffn.layers.0.0.\2'),
    (rf'blocks\.(\d+)\.mlp\.fc2\.{_W}', r'layers.\1.ffn.layers.1.\2'),
    (r'blocks\.(\d+)\.ls2\.gamma', r'layers.\1.ffn.gamma2.weight'),
    (rf'norm\.{_W}', r'ln1.\1'),  # the final norm (mmpretrain: final_norm=True)
    (rf'fc_norm\.{_W}', r'ln2.\1'),  # global average pooling (out_type='avg_featmap')
]
_TIMM_VIT_DROPPED = re.compile(r'head(\..*)?')  # classifier, or MoCo v3's projection MLP


def _resnet_name(name: str) -> Optional[str]:
    if _RESNET_DROPPED.fullmatch(name):
        return None
    if _RESNET_KEY.fullmatch(name):
        return name  # torchvision's names are mmpretrain's and mmdet's
    raise KeyError(name)


def _vit_name(name: str) -> Optional[str]:
    if _TIMM_VIT_DROPPED.fullmatch(name):
        return None
    for pattern, replacement in _TIMM_VIT_TO_MMPRETRAIN:
        if re.fullmatch(pattern, name):
            return re.sub(f'^{pattern}$', replacement, name)
    raise KeyError(name)


def _backbone_kind(names: list[str]) -> Optional[str]:
    if any(n == 'cls_token' or n.startswith(('blocks.', 'patch_embed.')) for n in names):
        return 'vit'
    if 'conv1.weight' in names or any(n.startswith('layer1.') for n in names):
        return 'resnet'
    return None


def _strip_ddp(keys: list[str]) -> dict[str, str]:
    """Original key -> key without DistributedDataParallel's ``module.`` (if all have it)."""
    if keys and all(k.startswith('module.') for k in keys):
        return {k: k[len('module.'):] for k in keys}
    return {k: k for k in keys}


# layout -> (prefix of the kept encoder, pattern of the release's other parts: dropped)
def _layout_spec(layout: str, keys: list[str]) -> tuple[str, Optional[re.Pattern]]:
    if layout == 'moco':
        return 'encoder_q.', re.compile(r'encoder_k\..*|queue|queue_ptr')
    if layout == 'mocov3':
        return 'base_encoder.', re.compile(r'(momentum_encoder|predictor)\..*')
    if layout == 'dino':
        prefix = 'backbone.' if any(k.startswith('backbone.') for k in keys) else ''
        return prefix, re.compile(r'head\..*')
    if layout == 'mae':
        return '', re.compile(r'mask_token|decoder_.*')
    return '', None  # torchvision, timm_vit


def detect_layout(state_dict: dict) -> str:
    """The layout of a released state dict (one of :data:`LAYOUTS`), from its keys."""
    keys = list(_strip_ddp(list(state_dict)).values())

    def has(prefix):
        return any(k.startswith(prefix) for k in keys)

    if has('encoder_q.'):
        return 'moco'
    if has('base_encoder.'):
        return 'mocov3'
    if has('decoder_') or 'mask_token' in keys:
        return 'mae'
    if has('backbone.'):
        groups = {k.split('.')[0] for k in keys}
        names = [k[len('backbone.'):] for k in keys if k.startswith('backbone.')]
        if groups == {'backbone', 'head'} and _backbone_kind(names) is not None:
            return 'dino'
        raise ValueError(
            f'the keys ({sorted(g + ".*" for g in groups)}) look like an mmssl or mmpretrain '
            f'checkpoint, not an official release: use tools/model_converters/'
            f'extract_backbone.py (a backbone.* file already loads with prefix=\'backbone.\')')
    kind = _backbone_kind(keys)
    if kind == 'vit':
        return 'timm_vit'
    if kind == 'resnet':
        return 'torchvision'
    raise ValueError(
        f'cannot tell the layout of a state dict whose first keys are {keys[:5]}; known '
        f'layouts:\n' +
        '\n'.join(f'  {name}: {text}' for name, text in LAYOUT_HELP.items()))


def map_layout_keys(state_dict: dict, layout: str = 'auto') -> 'OrderedDict[str, Optional[str]]':
    """Each key of a released state dict -> its backbone-layout key, or None if dropped.

    Kept: the online/query/base encoder (MoCo: ``encoder_q``, MoCo v3: ``base_encoder``,
    DINO: the backbone of the given dict, MAE: the encoder), without its classifier or
    projection head (``fc.*``, ``head.*``). Dropped: key/momentum encoders, queue,
    predictor, DINO's head, MAE's decoder and mask token. A key that belongs to none of
    these raises ValueError rather than being dropped silently.
    """
    check_layout(layout)
    if layout == 'auto':
        layout = detect_layout(state_dict)
    stripped = _strip_ddp(list(state_dict))
    prefix, others = _layout_spec(layout, list(stripped.values()))
    encoder = [k[len(prefix):] for k in stripped.values() if k.startswith(prefix)
               and not (others and others.fullmatch(k))]
    kind = _backbone_kind(encoder)
    expected = {'torchvision': 'resnet', 'mae': 'vit', 'timm_vit': 'vit'}.get(layout)
    if kind is None or (expected and kind != expected):
        what = {'resnet': 'ResNet', 'vit': 'ViT', None: 'ResNet or ViT'}[expected]
        where = f'under {prefix!r}' if prefix else 'at the top level'
        raise ValueError(f'no {what} encoder {where} for layout {layout!r} '
                         f'({LAYOUT_HELP[layout]}); first keys: {list(state_dict)[:5]}')
    rename = _vit_name if kind == 'vit' else _resnet_name
    mapping = OrderedDict()
    for key, short in stripped.items():
        if others is not None and others.fullmatch(short):
            mapping[key] = None
        elif short.startswith(prefix):
            try:
                name = rename(short[len(prefix):])
            except KeyError:
                raise ValueError(f'{key!r}: no mmpretrain {kind} parameter of that name '
                                 f'(layout {layout!r}); mmssl converts the standard '
                                 f'torchvision ResNet and timm ViT only') from None
            mapping[key] = None if name is None else 'backbone.' + name
        else:
            raise ValueError(f'{key!r} is not part of the {layout!r} layout '
                             f'({LAYOUT_HELP[layout]})')
    return mapping


def import_checkpoint(state_dict: dict, layout: str = 'auto') -> 'OrderedDict[str, Tensor]':
    """A released state dict in the backbone layout (``backbone.`` + mmpretrain names).

    ``layout``: one of :data:`LAYOUTS`, or ``'auto'`` to detect it from the keys.
    """
    mapping = map_layout_keys(state_dict, layout)
    return OrderedDict((new, state_dict[old]) for old, new in mapping.items() if new)
