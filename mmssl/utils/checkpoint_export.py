"""Backbone checkpoint files out of mmssl and official releases.

:func:`extract_backbone` keeps the online backbone of an mmssl checkpoint;
:func:`import_checkpoint_file` converts a released checkpoint
(:mod:`mmssl.utils.checkpoint_layouts`). Both write the backbone layout
(``{'state_dict': {'backbone.<mmpretrain name>': Tensor}, 'meta': {...}}``) atomically
and return a :class:`ConversionReport` of the keys written and dropped.
"""
import ast
import os
import os.path as osp
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Optional

import torch
from torch import Tensor

from .atomic_io import publish_file
from .checkpoint_layouts import check_layout, detect_layout, map_layout_keys
from .checkpoint_loading import find_state_dict, load_checkpoint_file, load_state_dict_file


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
    state_dict = find_state_dict(checkpoint, src)
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
    check_layout(layout)  # before reading a large file
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
