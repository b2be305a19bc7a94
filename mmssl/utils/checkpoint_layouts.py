"""Checkpoint files in and out of mmssl: load them safely, keep the backbone, import the
official MoCo / MoCo v3 / DINO / MAE releases.

Every file is read with ``torch.load(weights_only=True)``: tensors and plain containers,
never code (the logging state that mmengine's runner and the official training scripts
save beside the weights is read as inert placeholders). The output of
:func:`extract_backbone` and :func:`import_checkpoint` is the *backbone layout*:
``backbone.`` + mmpretrain's parameter names, which

- ``init_cfg=dict(type='Pretrained', checkpoint=FILE, prefix='backbone.')`` on an
  mmpretrain or mmdet backbone loads without missing or unexpected keys, and
- ``load_checkpoint(model, FILE)`` loads into an mmpretrain ``ImageClassifier`` or an
  mmdet detector (both keep their backbone as ``model.backbone``).

Names. mmpretrain's ``ResNet`` uses torchvision's names (``conv1``, ``bn1``,
``layerX.Y.convZ``, ``downsample.0/1``); its ``VisionTransformer`` renames timm's (see
``_TIMM_VIT_TO_MMPRETRAIN``; the final norm becomes ``ln1``, the same name as each
block's first norm, and ``fc_norm`` of global average pooling becomes ``ln2``, which
exists with ``out_type='avg_featmap'`` only).
"""
import ast
import os
import os.path as osp
import pickle
import pickletools
import re
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Optional

import torch
from torch import Tensor

from .atomic_io import publish_file

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

# Containers of a state dict inside a checkpoint, in the order they are looked for:
# mmengine / MoCo ('state_dict'), MAE ('model'), DINO's full checkpoints ('teacher',
# which the paper evaluates, then 'student').
STATE_DICT_KEYS = ('state_dict', 'model', 'teacher', 'student')

# Objects that mmengine's Runner and the official training scripts pickle next to the
# weights: the MessageHub's log (HistoryBuffer, whose statistics methods are pickled as
# getattr(HistoryBuffer, 'mean'), numpy values) and argparse arguments (DINO, MAE). They
# are loaded as inert placeholders, so that weights_only=True reads these files; their
# code never runs. Any other global is refused.
_PLACEHOLDER_GLOBALS = (
    'mmengine.logging.history_buffer.HistoryBuffer',
    'builtins.getattr',
    'numpy.ndarray',
    'numpy.dtype',
    'numpy._core.multiarray._reconstruct',
    'numpy._core.multiarray.scalar',
    'numpy.core.multiarray._reconstruct',
    'numpy.core.multiarray.scalar',
    'argparse.Namespace',
)


class UnsafeCheckpointError(ValueError):
    """A checkpoint whose pickle names code (a function or class) mmssl will not run."""


class _Placeholder:
    """Stands for an object of a checkpoint's logging state; keeps nothing, runs nothing."""

    global_name = '?'

    def __init__(self, *args, **kwargs) -> None:
        pass

    def __setstate__(self, state) -> None:
        pass

    def __repr__(self) -> str:
        return f'<{self.global_name}: not loaded>'


def _placeholders() -> list:
    return [(type('Placeholder', (_Placeholder, ), dict(global_name=name)), name)
            for name in _PLACEHOLDER_GLOBALS]


def _pickle_globals(path: str) -> list[str]:
    """The globals a plain (non-zip) pickle names, read op by op without running any."""
    names, strings = [], []
    try:
        with open(path, 'rb') as f:
            for opcode, arg, _ in pickletools.genops(f):
                if opcode.name in ('GLOBAL', 'INST'):
                    names.append(arg.replace(' ', '.'))
                elif opcode.name == 'STACK_GLOBAL' and len(strings) >= 2:
                    names.append(f'{strings[-2]}.{strings[-1]}')
                elif isinstance(arg, str):
                    strings.append(arg)
    except Exception:  # a truncated or foreign file: report what was read
        pass
    return names


def _refused_globals(path: str, error: Exception) -> list[str]:
    """The globals that made weights_only refuse ``path`` (empty: it was not that)."""
    allowed = set(_PLACEHOLDER_GLOBALS)
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:  # not a zip checkpoint: a legacy or plain pickle
        names = _pickle_globals(path)
        names = [n for n in names if not n.startswith(('torch.', 'collections.OrderedDict'))]
    names = [n for n in dict.fromkeys(names) if n not in allowed]
    if not names:
        names = re.findall(r'GLOBAL (\S+)', str(error))
    return names


def load_checkpoint_file(path: str, map_location: object = 'cpu',
                         safe_globals: Optional[list] = None) -> object:
    """Everything a checkpoint file holds, loaded with ``weights_only=True``.

    ``safe_globals``: the classes allowed besides tensors and containers; by default
    mmengine's logging state (HistoryBuffer, numpy scalars, ``argparse.Namespace``)
    loads as inert placeholders, which is all weight conversion needs.

    Raises FileNotFoundError (no such file), :class:`UnsafeCheckpointError` (its pickle
    names code, e.g. a class whose ``__reduce__`` calls ``os.system``: mmssl refuses to
    unpickle code) or ValueError (not a PyTorch checkpoint), each naming the file.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint file not found: {path}')
    allowed = _placeholders() if safe_globals is None else safe_globals
    try:
        with torch.serialization.safe_globals(allowed), warnings.catch_warnings():
            # plain pickles of a recent protocol: torch warns, then loads or refuses them
            warnings.filterwarnings('ignore', message='Detected pickle protocol')
            return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:
        refused = (_refused_globals(path, error)
                   if isinstance(error, pickle.UnpicklingError) else [])
        if refused:
            raise UnsafeCheckpointError(
                f"{path}: its pickle names code ({', '.join(refused)}) besides tensors and "
                f'containers. mmssl loads checkpoints with torch.load(weights_only=True) and '
                f'refuses to unpickle code. If you trust the file, load it yourself with '
                'weights_only=False and torch.save() its state dict.') from error
        reason = str(error).strip().split('. ')[0]
        raise ValueError(f'{path} is not a PyTorch checkpoint (torch.load failed: '
                         f'{type(error).__name__}{": " + reason if reason else ""})') from error


def _state_dict_of(checkpoint: object, path: str, key: Optional[str] = None) -> dict:
    if not isinstance(checkpoint, dict):
        raise ValueError(f'{path} holds a {type(checkpoint).__name__}, not a state dict or '
                         f'a dict of them')
    if key is not None:
        if not isinstance(checkpoint.get(key), dict):
            raise ValueError(f'{path} has no state dict under {key!r}; its entries: '
                             f'{sorted(map(str, checkpoint))}')
        state_dict = checkpoint[key]
    elif checkpoint and all(isinstance(v, Tensor) for v in checkpoint.values()):
        state_dict = checkpoint
    else:
        found = [k for k in STATE_DICT_KEYS if isinstance(checkpoint.get(k), dict)]
        if not found:
            raise ValueError(f'{path} holds neither a state dict nor one under '
                             f'{list(STATE_DICT_KEYS)}; its entries: '
                             f'{sorted(map(str, checkpoint))[:10]}')
        state_dict = checkpoint[found[0]]
    others = [k for k, v in state_dict.items() if not isinstance(v, Tensor)]
    if others:
        raise ValueError(f'{path}: the state dict has {len(others)} entries that are not '
                         f'tensors, e.g. {others[:5]}')
    return OrderedDict(state_dict)


def load_state_dict_file(path: str, key: Optional[str] = None) -> 'OrderedDict[str, Tensor]':
    """The state dict a checkpoint file holds (``weights_only=True``, on the CPU).

    A file that is a dict of tensors is the state dict; otherwise the first of
    ``'state_dict'`` (mmengine, MoCo), ``'model'`` (MAE), ``'teacher'`` (DINO's full
    checkpoints: the teacher is the network DINO evaluates), ``'student'``, or ``key``.
    Errors as :func:`load_checkpoint_file`, and ValueError naming the file when no state
    dict of tensors is found.
    """
    return _state_dict_of(load_checkpoint_file(path), path, key)


def extract_backbone(state_dict: dict, prefix: str = 'backbone.') -> 'OrderedDict[str, Tensor]':
    """The online backbone of an mmssl state dict, keys ``backbone.<mmpretrain name>``.

    mmssl algorithms keep the online encoder's backbone as ``backbone.*`` and everything
    else under other names (``momentum_backbone.*``: MoCo's key encoder, BYOL's target,
    DINO's teacher; ``neck.*``, ``head.*``, ``dictionary.*``, ``online_probe.*``). The
    keys under ``prefix`` are kept, renamed to ``backbone.*``: e.g.
    ``prefix='momentum_backbone.'`` gives DINO's teacher backbone.
    """
    if not prefix.endswith('.'):
        prefix += '.'
    out = OrderedDict(('backbone.' + k[len(prefix):], v) for k, v in state_dict.items()
                      if k.startswith(prefix))
    if not out:
        groups = list(dict.fromkeys(k.split('.')[0] + '.' for k in state_dict))
        raise ValueError(f'no key starts with {prefix!r}; the state dict holds {groups}')
    return out


# ----------------------------------------------------------------------------- importers

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
    if layout == 'auto':
        layout = detect_layout(state_dict)
    if layout not in LAYOUTS:
        raise ValueError(f'unknown checkpoint layout {layout!r}; known layouts: '
                         f"{', '.join(LAYOUTS)} (or 'auto')")
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


# ----------------------------------------------------------------------------- files

@dataclass
class ConversionReport:
    """What a conversion wrote (backbone keys) and which source keys it left out."""
    layout: str
    written: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    kept_sources: list[str] = field(default_factory=list)

    def dropped_summary(self) -> list[str]:
        return summarize_keys(self.dropped, self.kept_sources)


def summarize_keys(keys: list[str], kept: list[str] = ()) -> list[str]:
    """Group ``keys`` by their shortest prefix that no key of ``kept`` shares.

    E.g. MoCo's dropped keys -> ``['module.encoder_q.fc.* (4)', 'module.encoder_k.* (122)',
    'module.queue', 'module.queue_ptr']``.
    """
    kept_prefixes = set()
    for key in kept:
        parts = key.split('.')
        kept_prefixes.update('.'.join(parts[:n]) for n in range(1, len(parts) + 1))
    groups = OrderedDict()
    for key in keys:
        parts = key.split('.')
        n = 1
        while n < len(parts) and '.'.join(parts[:n]) in kept_prefixes:
            n += 1
        label = '.'.join(parts[:n]) + ('.*' if n < len(parts) else '')
        groups[label] = groups.get(label, 0) + 1
    return [f'{label} ({count})' if count > 1 else label for label, count in groups.items()]


def _algorithm_of(checkpoint: object) -> Optional[str]:
    """``model.type`` of the config an mmengine checkpoint carries in its meta (read with
    ``ast``, never executed), or None."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    cfg_text = meta.get('cfg') if isinstance(meta, dict) else None
    if not isinstance(cfg_text, str):
        return None
    try:
        tree = ast.parse(cfg_text)
    except SyntaxError:
        return None
    for node in tree.body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and any(isinstance(t, ast.Name) and t.id == 'model' for t in node.targets)):
            for keyword in node.value.keywords:
                if keyword.arg == 'type' and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
    return None


def save_backbone_checkpoint(state_dict: dict, path: str, meta: Optional[dict] = None) -> None:
    """Write ``{'state_dict': state_dict, 'meta': meta}`` atomically (temp file, rename)."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp_path = osp.join(folder, f'.{osp.basename(path)}.tmp')
    # a view into a larger storage (shared weights) would save all of it: copy it alone
    state_dict = OrderedDict(
        (k, v.clone() if v.untyped_storage().nbytes() != v.nbytes else v)
        for k, v in state_dict.items())
    try:
        torch.save({'state_dict': state_dict, 'meta': dict(meta or {})}, tmp_path)
        publish_file(tmp_path, path)
    finally:
        if osp.exists(tmp_path):
            os.remove(tmp_path)


def extract_backbone_file(src: str, dst: str, prefix: str = 'backbone.') -> ConversionReport:
    """:func:`extract_backbone` from the checkpoint file ``src`` into ``dst``."""
    checkpoint = load_checkpoint_file(src)
    state_dict = _state_dict_of(checkpoint, src)
    backbone = extract_backbone(state_dict, prefix)
    meta = dict(source=osp.abspath(src), source_prefix=prefix,
                algorithm=_algorithm_of(checkpoint))
    save_backbone_checkpoint(backbone, dst, meta)
    full_prefix = prefix if prefix.endswith('.') else prefix + '.'
    kept = [k for k in state_dict if k.startswith(full_prefix)]
    return ConversionReport('mmssl', written=list(backbone), kept_sources=kept,
                            dropped=[k for k in state_dict if not k.startswith(full_prefix)])


def import_checkpoint_file(src: str, dst: str, layout: str = 'auto',
                           key: Optional[str] = None) -> ConversionReport:
    """:func:`import_checkpoint` from the released file ``src`` into ``dst``."""
    if layout != 'auto' and layout not in LAYOUTS:  # before reading a large file
        raise ValueError(f'unknown checkpoint layout {layout!r}; known layouts: '
                         f"{', '.join(LAYOUTS)} (or 'auto')")
    state_dict = load_state_dict_file(src, key)
    try:
        used = detect_layout(state_dict) if layout == 'auto' else layout
        mapping = map_layout_keys(state_dict, used)
    except ValueError as error:
        raise ValueError(f'{src}: {error}') from None
    backbone = OrderedDict((new, state_dict[old]) for old, new in mapping.items() if new)
    save_backbone_checkpoint(backbone, dst, dict(source=osp.abspath(src), layout=used))
    return ConversionReport(used, written=list(backbone),
                            dropped=[k for k, new in mapping.items() if new is None],
                            kept_sources=[k for k, new in mapping.items() if new])
