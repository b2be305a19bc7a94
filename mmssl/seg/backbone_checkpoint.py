"""mmssl backbone checkpoints into mmseg's backbones: exactly, or a ValueError naming keys.

An mmseg config loads a backbone pretrained with mmssl with

    custom_imports = dict(imports=['mmssl.seg'], allow_failed_imports=False)
    model = dict(backbone=dict(..., init_cfg=dict(type='mmssl.PretrainedBackbone',
                                                  checkpoint=FILE)))

FILE is an mmssl training checkpoint (the online backbone under ``backbone.*``; the rest,
``momentum_backbone.*``, ``neck.*``, ``head.*``..., is not read) or the output of
``tools/model_converters/extract_backbone.py`` (``backbone.*`` as well). Its keys are in
mmpretrain's naming (``ResNet``, ``VisionTransformer``; mmssl's ``MaskedViT`` has the same
state dict). The key mapping is chosen by the class of the module initialised
(:data:`BACKBONE_MAPPINGS`); the mapped keys and shapes must then equal the module's
``state_dict()`` and are loaded with ``strict=True``.

mmseg backbones run an init_cfg whose type is not ``'Pretrained'`` through mmengine's
``BaseModule.init_weights``: ``ResNet`` and ``VisionTransformer`` directly, ``MAE`` after
its own random init. mmengine runs such an initializer *before* the children's
``init_weights`` (only ``'Pretrained'`` runs after them), so :class:`PretrainedBackbone`
marks every submodule initialised once it has loaded: no child draws its weights again.
"""
import logging
import math
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Union

import torch
from mmengine.logging import print_log
from mmengine.model.weight_init import update_init_info
from mmpretrain.models.utils import resize_pos_embed
from mmseg.models.backbones import MAE, BEiT, ResNet, VisionTransformer
from torch import Tensor, nn

from mmssl.registry import WEIGHT_INITIALIZERS
from mmssl.utils.checkpoint_export import summarize_keys
from mmssl.utils.checkpoint_loading import load_state_dict_file

__all__ = [
    'BACKBONE_MAPPINGS', 'MappedState', 'PretrainedBackbone', 'backbone_state',
    'load_backbone_checkpoint', 'map_backbone_state', 'map_resnet', 'map_vit_to_mae',
    'map_vit_to_mmseg_vit'
]


@dataclass
class MappedState:
    """A checkpoint's backbone state renamed to the keys of an mmseg backbone.

    tensors: module key -> tensor to load. sources: module key -> the checkpoint key it
    came from (absent for values the mapping sets itself). dropped: checkpoint keys left
    out on purpose (each mapping lists them). own: module key -> why it keeps the module's
    own value. notes: what was changed on the way (a resized position embedding). hints:
    advice printed with a key error.
    """
    tensors: 'OrderedDict[str, Tensor]' = field(default_factory=OrderedDict)
    sources: dict[str, str] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    own: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)


def _rename(state: dict, rules: list[tuple[str, str]], dropped: list[str]) -> MappedState:
    """Rename ``state`` by the first rule (regex, replacement) whose pattern matches a key in
    full; keys matching no rule keep their name. Keys matching ``dropped`` are left out."""
    mapped = MappedState()
    for key, value in state.items():
        if any(re.fullmatch(pattern, key) for pattern in dropped):
            mapped.dropped.append(key)
            continue
        name = key
        for pattern, replacement in rules:
            if re.fullmatch(pattern, key):
                name = re.sub(f'^{pattern}$', replacement, key)
                break
        mapped.tensors[name] = value
        mapped.sources[name] = key
    return mapped


def map_resnet(state: dict, module: ResNet) -> MappedState:
    """mmpretrain ``ResNet`` -> mmseg ``ResNet``: the same names (torchvision's).

    A deep stem (``ResNetV1c``/``ResNetV1d``, or ``deep_stem=True``: three 3x3 convs as
    ``stem.*``) is not initialised: the key check fails on ``stem.*`` against the
    checkpoint's ``conv1``/``bn1``, with a hint to use ``type='ResNet'``.
    """
    mapped = _rename(state, [], [])
    cls = type(module).__name__
    if getattr(module, 'deep_stem', False):
        mapped.hints.append(
            f"mmseg {cls} has a deep stem (stem.*: three 3x3 convs) and the checkpoint "
            f"mmpretrain's 7x7 stem (conv1, bn1), which does not fit it; use "
            f"backbone type='ResNet' (7x7 stem, as MMSelfSup's segmentation benchmarks do)")
    if getattr(module, 'avg_down', False):
        mapped.hints.append(
            f'mmseg {cls} has avg_down=True (an average pool in each downsample, which '
            f'shifts downsample.0/1 to downsample.1/2); use avg_down=False')
    return mapped


# Keys of an mmpretrain VisionTransformer that no mmseg ViT backbone has, left out on
# purpose: the norm after global average pooling (out_type='avg_featmap') and the mask
# token of masked image modelling (MaskedViT with mask_token=True: SimMIM, BEiT).
_VIT_PRETRAINING_ONLY = [r'ln2\.(weight|bias)', r'mask_token']
# The final norm (mmpretrain's final_norm=True), left out when the mmseg backbone has none
# (final_norm=False: the BEiT/MAE segmentation protocol takes intermediate blocks unnormed).
_VIT_FINAL_NORM = r'ln1\.(weight|bias)'


def _vit_drops(module: nn.Module) -> list[str]:
    return _VIT_PRETRAINING_ONLY + ([] if module.final_norm else [_VIT_FINAL_NORM])


def _vit_hints(mapped: MappedState, state: dict, module: nn.Module) -> None:
    if module.final_norm and 'ln1.weight' not in state:
        mapped.hints.append('the checkpoint has no final norm (ln1; mmpretrain final_norm='
                            'False): set final_norm=False')


def _resize_vit_pos_embed(mapped: MappedState, grid: tuple[int, int], mode: str) -> None:
    """Resize ``pos_embed`` (1, 1 + h * w, C), square h = w, to the module's patch ``grid``
    (the class token's entry kept), e.g. a 224-px checkpoint for a 512-px backbone."""
    pos_embed = mapped.tensors.get('pos_embed')
    if pos_embed is None or pos_embed.dim() != 3:
        return
    side = math.isqrt(pos_embed.shape[1] - 1)
    if side * side != pos_embed.shape[1] - 1:
        raise ValueError(f'pos_embed {tuple(pos_embed.shape)} is not a class token and a '
                         f'square grid of patches')
    if (side, side) != tuple(grid):
        mapped.tensors['pos_embed'] = resize_pos_embed(pos_embed, (side, side), tuple(grid),
                                                       mode=mode, num_extra_tokens=1)
        mapped.notes.append(f'pos_embed resized ({mode}) from {side}x{side} to '
                            f'{grid[0]}x{grid[1]} patches')


# mmpretrain's layer scale (layer_scale_init_value > 0) -> BEiT/MAE's gamma_1/gamma_2
_VIT_TO_MAE = [
    (r'layers\.(\d+)\.attn\.gamma1\.weight', r'layers.\1.gamma_1'),
    (r'layers\.(\d+)\.ffn\.gamma2\.weight', r'layers.\1.gamma_2'),
]


def map_vit_to_mae(state: dict, module: MAE) -> MappedState:
    """mmpretrain ``VisionTransformer`` -> mmseg ``MAE`` (BEiT's blocks with an absolute
    position embedding and a full qkv bias).

    The same names for ``cls_token``, ``pos_embed`` (resized to the module's patch grid),
    ``patch_embed.projection``, ``layers.i.{ln1,ln2,attn.qkv,attn.proj,ffn.layers}`` (MAE's
    qkv has the full (3C,) bias, as mmpretrain's; BEiT's q_bias/v_bias are not used).
    Layer scale: ``attn.gamma1.weight``/``ffn.gamma2.weight`` -> ``gamma_1``/``gamma_2``;
    a checkpoint without layer scale keeps the module's own gammas (``init_values``; 1.0,
    as mmseg's MAE config sets it, is no layer scale: the exact pretrained network).
    ``relative_position_bias_table`` is set to zeros: the ViT has no relative position
    bias (zeros are MAE's own init too). The final norm ``ln1`` is dropped unless the
    module has ``final_norm=True``; ``ln2`` and ``mask_token`` always.
    """
    mapped = _rename(state, _VIT_TO_MAE, _vit_drops(module))
    _vit_hints(mapped, state, module)
    _resize_vit_pos_embed(mapped, module.patch_shape, 'bicubic')
    own = module.state_dict()
    for i in range(len(module.layers)):
        table = f'layers.{i}.attn.relative_position_bias_table'
        mapped.tensors[table] = torch.zeros_like(own[table])
        mapped.own[f'layers.{i}.attn.relative_position_index'] = 'computed by the module'
        for gamma in (f'layers.{i}.gamma_1', f'layers.{i}.gamma_2'):
            if gamma not in mapped.tensors:
                mapped.own[gamma] = 'no layer scale in the checkpoint: init_values'
    scaled = [k for k in mapped.own if 'gamma' in k and not torch.all(own[k] == 1)]
    if scaled:
        print_log(f'mmssl.PretrainedBackbone: the checkpoint has no layer scale and MAE keeps '
                  f'init_values={module.init_values} in {len(scaled)} gamma_1/gamma_2, not '
                  f"1.0: the features differ from the pretrained ViT's", logger='current',
                  level=logging.WARNING)
    return mapped


# mmpretrain's attention (qkv, proj) -> mmcv's MultiheadAttention around torch's
# (in_proj_weight/bias: q, k, v stacked in the same order as qkv; out_proj)
_VIT_TO_MMSEG_VIT = [
    (r'layers\.(\d+)\.attn\.qkv\.(weight|bias)', r'layers.\1.attn.attn.in_proj_\2'),
    (r'layers\.(\d+)\.attn\.proj\.(weight|bias)', r'layers.\1.attn.attn.out_proj.\2'),
    (r'pre_norm\.(weight|bias)', r'ln_pre.\1'),
]


def map_vit_to_mmseg_vit(state: dict, module: VisionTransformer) -> MappedState:
    """mmpretrain ``VisionTransformer`` -> mmseg ``VisionTransformer``.

    ``attn.qkv`` -> ``attn.attn.in_proj_{weight,bias}``, ``attn.proj`` ->
    ``attn.attn.out_proj``, ``pre_norm`` -> ``ln_pre``; the other names are the same
    (``pos_embed`` resized to the module's patch grid). The final norm ``ln1`` is dropped
    unless the module has ``final_norm=True``; ``ln2`` and ``mask_token`` always.
    """
    mapped = _rename(state, _VIT_TO_MMSEG_VIT, _vit_drops(module))
    _vit_hints(mapped, state, module)
    grid = (module.img_size[0] // module.patch_size, module.img_size[1] // module.patch_size)
    _resize_vit_pos_embed(mapped, grid, module.interpolate_mode)
    patch_bias = 'patch_embed.projection.bias'
    if patch_bias in mapped.tensors and patch_bias not in module.state_dict():
        mapped.hints.append("mmpretrain's patch embedding has a bias and mmseg's "
                            'VisionTransformer has none by default: set patch_bias=True')
    if any(re.fullmatch(pattern, key) for pattern, _ in _VIT_TO_MAE for key in state):
        mapped.hints.append("the checkpoint has layer scale (gamma1/gamma2), which mmseg's "
                            "VisionTransformer lacks: use type='MAE'")
    return mapped


_NO_BEIT = ("mmseg's BEiT has no absolute position embedding (relative position bias "
            "only), so an mmpretrain ViT's pos_embed has nowhere to go: use type='MAE' "
            '(the same blocks with pos_embed)')

# mmseg backbone class -> the mapping of an mmpretrain checkpoint onto it, or why there is
# none. The first class the module is an instance of wins: subclasses before their bases
# (MAE before BEiT; ResNetV1c/ResNetV1d go to ResNet's, whose key check fails on the stem).
BACKBONE_MAPPINGS: tuple[tuple[type, Union[Callable, str]], ...] = (
    (MAE, map_vit_to_mae),
    (BEiT, _NO_BEIT),
    (VisionTransformer, map_vit_to_mmseg_vit),
    (ResNet, map_resnet),
)


def map_backbone_state(state: dict, module: nn.Module) -> MappedState:
    """``state`` (mmpretrain names, no ``backbone.`` prefix) renamed for ``module``.

    Raises ValueError for a module class without a mapping, listing the supported ones.
    """
    for cls, mapping in BACKBONE_MAPPINGS:
        if isinstance(module, cls):
            if isinstance(mapping, str):
                raise ValueError(f'mmssl.PretrainedBackbone cannot load into mmseg '
                                 f'{type(module).__name__}: {mapping}')
            return mapping(state, module)
    supported = ', '.join(cls.__name__ for cls, m in BACKBONE_MAPPINGS if callable(m))
    raise ValueError(f'mmssl.PretrainedBackbone has no key mapping for '
                     f'{type(module).__module__}.{type(module).__name__}; supported mmseg '
                     f'backbones: {supported} (and their subclasses)')


def backbone_state(path: str, prefix: str = 'backbone.') -> 'OrderedDict[str, Tensor]':
    """The tensors under ``prefix`` in the checkpoint file ``path``, prefix removed
    (mmssl's loader: ``weights_only=True``). ``prefix=''``: the whole state dict."""
    state = load_state_dict_file(path)
    if not prefix:
        return state
    out = OrderedDict((k[len(prefix):], v) for k, v in state.items() if k.startswith(prefix))
    if not out:
        groups = list(dict.fromkeys(k.split('.')[0] + '.*' for k in state))
        raise ValueError(f'{path}: no key starts with {prefix!r} (an mmssl checkpoint or the '
                         f'output of extract_backbone.py keeps the backbone there); the state '
                         f'dict holds {groups[:10]}')
    return out


def _listing(keys: list[str], others: list[str], limit: int = 12) -> str:
    """``keys`` in full when few, else grouped by the prefix ``others`` do not share."""
    if len(keys) <= limit:
        return ', '.join(keys)
    groups = summarize_keys(keys, others)
    # a group of one key ('a.b.*') reads better as the key
    groups = [next(k for k in keys if k.startswith(g[:-1])) if g.endswith('.*') else g
              for g in groups]
    more = f', ... ({len(groups) - limit} more groups)' if len(groups) > limit else ''
    return ', '.join(groups[:limit]) + more


def _check_keys(mapped: MappedState, module: nn.Module, path: str, prefix: str) -> None:
    """Raise ValueError naming ``path``, the module class, the missing and unexpected keys
    and the shape mismatches, if the mapped state is not exactly the module's."""
    own = module.state_dict()
    cls = type(module).__name__
    missing = [k for k in own if k not in mapped.tensors and k not in mapped.own]
    unexpected = [k for k in mapped.tensors if k not in own]
    mismatched = [k for k in mapped.tensors
                  if k in own and mapped.tensors[k].shape != own[k].shape]
    if not (missing or unexpected or mismatched):
        return

    def source(key: str) -> str:
        name = prefix + mapped.sources.get(key, key)
        return name if mapped.sources.get(key, key) == key else f'{name} (as {key})'

    lines = [f'{path} does not fit mmseg {cls} (mmssl.PretrainedBackbone, checkpoint keys '
             f"under {prefix!r} mapped to {cls}'s):"]
    if missing:
        lines.append(f'  {len(missing)} missing key(s), in {cls} but not in the checkpoint: '
                     f'{_listing(missing, [k for k in own if k not in missing])}')
    if unexpected:
        names = [source(k) for k in unexpected]
        if len(names) > 12:
            names = [prefix + mapped.sources.get(k, k) for k in unexpected]
        used = [prefix + mapped.sources.get(k, k) for k in mapped.tensors
                if k in own and k not in mismatched]
        lines.append(f'  {len(unexpected)} unexpected key(s), in the checkpoint but not in '
                     f'{cls}: {_listing(names, used)}')
    if mismatched:
        shown = [f'{source(k)}: checkpoint {tuple(mapped.tensors[k].shape)}, {cls} '
                 f'{tuple(own[k].shape)}' for k in mismatched[:12]]
        more = f'; ... ({len(mismatched) - 12} more)' if len(mismatched) > 12 else ''
        lines.append(f'  {len(mismatched)} shape mismatch(es): ' + '; '.join(shown) + more)
    lines += [f'  hint: {hint}' for hint in mapped.hints]
    raise ValueError('\n'.join(lines))


def load_backbone_checkpoint(module: nn.Module, path: str,
                             prefix: str = 'backbone.') -> MappedState:
    """Load the backbone in the checkpoint file ``path`` into the mmseg backbone ``module``.

    The keys under ``prefix`` are mapped for the module's class
    (:func:`map_backbone_state`), compared with ``module.state_dict()`` (any missing or
    unexpected key or shape mismatch: ValueError naming the file, the class and the keys),
    then loaded with ``strict=True``. Returns the mapping (dropped keys, notes).
    """
    state = backbone_state(path, prefix)
    try:
        mapped = map_backbone_state(state, module)
    except ValueError as error:
        raise ValueError(f'{path}: {error}') from None
    _check_keys(mapped, module, path, prefix)
    full = OrderedDict((k, mapped.tensors.get(k, v)) for k, v in module.state_dict().items())
    module.load_state_dict(full, strict=True)
    return mapped


@WEIGHT_INITIALIZERS.register_module(name='PretrainedBackbone')
class PretrainedBackbone:
    """``init_cfg=dict(type='mmssl.PretrainedBackbone', checkpoint=FILE)`` of an mmseg
    backbone: :func:`load_backbone_checkpoint`, then every submodule marked initialised
    (mmengine would otherwise run the children's ``init_weights`` after this initializer).

    Args:
        checkpoint: an mmssl checkpoint or an extracted backbone file (local path).
        prefix: where the backbone's keys are in the file (``''``: a bare state dict).
    """

    def __init__(self, checkpoint: str, prefix: str = 'backbone.') -> None:
        self.checkpoint = checkpoint
        self.prefix = prefix
        self.wholemodule = False  # set by mmengine's initialize(); unused

    def __call__(self, module: nn.Module) -> None:
        mapped = load_backbone_checkpoint(module, self.checkpoint, self.prefix)
        for sub in module.modules():
            if sub is not module and hasattr(sub, 'init_weights'):
                sub.is_init = True
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())
        dropped = (f"; dropped {', '.join(summarize_keys(mapped.dropped))}"
                   if mapped.dropped else '')
        notes = ''.join(f'; {note}' for note in mapped.notes)
        print_log(f'mmssl.PretrainedBackbone: loaded {len(mapped.sources)} tensors of '
                  f'{self.checkpoint} into {type(module).__name__}{dropped}{notes}',
                  logger='current')

    def _get_init_info(self) -> str:
        return f'mmssl.PretrainedBackbone: load from {self.checkpoint}'
