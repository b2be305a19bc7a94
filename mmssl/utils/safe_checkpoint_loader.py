"""mmengine's loader of local checkpoint files, without its fallback to full unpickling.

mmengine (``runner/checkpoint.py``, ``_safe_torch_load``) first tries
``torch.load(weights_only=True)`` and, when that refuses the file, logs a warning and loads
it again with ``weights_only=False``, which runs whatever code the pickle names. Every
checkpoint mmengine reads from a local path goes through the loader registered for the
empty prefix: ``--resume``, ``load_from``, ``init_cfg=dict(type='Pretrained')``,
``tools/test.py``. Importing this module (``mmssl.engine`` and ``mmssl.utils`` do)
replaces that loader by one that keeps ``weights_only=True`` with mmengine's own
allowlist (its logging state) and raises :class:`UnsafeCheckpointError` otherwise.
"""
import os.path as osp

from mmengine.runner.checkpoint import CheckpointLoader, get_torch_safe_globals

from .checkpoint_layouts import load_checkpoint_file


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_local_checkpoint(filename: str, map_location: object = None) -> object:
    """A local checkpoint file, loaded with ``weights_only=True`` (mmengine's allowlist)."""
    return load_checkpoint_file(osp.expanduser(filename), map_location,
                                safe_globals=get_torch_safe_globals())
