"""Checkpoint files read safely: tensors and plain containers, never code.

Every file is read with ``torch.load(weights_only=True)``. The logging state that
mmengine's runner and the official training scripts save beside the weights is read as
inert placeholders; any other global the pickle names raises
:class:`~mmssl.utils.errors.UnsafeCheckpointError`.

Importing this module (``mmssl.utils`` and ``mmssl.engine`` do) also replaces mmengine's
loader of local checkpoint files (:func:`load_local_checkpoint`). mmengine
(``runner/checkpoint.py``, ``_safe_torch_load``) tries ``weights_only=True`` first and,
when that refuses a file, loads it again with ``weights_only=False``, which runs whatever
code the pickle names. Every local checkpoint mmengine reads goes through the loader
registered for the empty prefix (``--resume``, ``load_from``,
``init_cfg=dict(type='Pretrained')``, ``tools/test.py``); mmssl's keeps
``weights_only=True`` with mmengine's own allowlist and raises otherwise.
"""
import os.path as osp
import pickle
import pickletools
import re
import warnings
from collections import OrderedDict
from typing import Optional

import torch
from mmengine.runner.checkpoint import CheckpointLoader, get_torch_safe_globals
from torch import Tensor

from .errors import UnsafeCheckpointError

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


def find_state_dict(checkpoint: object, path: str, key: Optional[str] = None) -> dict:
    """The state dict (name -> Tensor) inside a loaded checkpoint read from ``path``.

    ``checkpoint`` itself if it is a dict of tensors, else ``checkpoint[key]``, else the
    first of :data:`STATE_DICT_KEYS` it holds. Raises ValueError naming ``path`` when
    there is none, or when it holds entries that are not tensors.
    """
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
    return find_state_dict(load_checkpoint_file(path), path, key)


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_local_checkpoint(filename: str, map_location: object = None) -> object:
    """A local checkpoint file, loaded with ``weights_only=True`` (mmengine's allowlist)."""
    return load_checkpoint_file(osp.expanduser(filename), map_location,
                                safe_globals=get_torch_safe_globals())
