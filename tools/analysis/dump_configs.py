"""Resolve every config and write what it trains as JSON: model, optimizer, schedule, hooks.

    python tools/analysis/dump_configs.py > dump.json

One entry per config under ``configs/`` and ``projects/*/configs/`` (``_base_`` files
excluded), keyed by its path relative to the repository: the resolved ``model``,
``optim_wrapper``, ``param_scheduler``, ``train_cfg``, ``custom_hooks`` and
``default_hooks``. ``tests/test_config_dump.py`` compares the configs with such a dump
taken before a refactoring, so a change of what a config trains cannot pass unnoticed.
"""
import glob
import json
import os.path as osp
import sys
from typing import Any

from mmengine.config import Config

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SECTIONS = ('model', 'optim_wrapper', 'param_scheduler', 'train_cfg', 'custom_hooks',
            'default_hooks')


ZOO_DIR = osp.join('configs', 'zoo')  # the model zoo's row lists, not configs to train


def config_paths(root: str = REPO_ROOT) -> list[str]:
    """Every config file, relative to ``root``, sorted (not ``_base_`` parts or the zoo's
    row lists)."""
    paths = (glob.glob(osp.join(root, 'configs', '**', '*.py'), recursive=True)
             + glob.glob(osp.join(root, 'projects', '*', 'configs', '**', '*.py'),
                         recursive=True))
    return sorted(osp.relpath(p, root) for p in paths
                  if '_base_' not in p and not osp.relpath(p, root).startswith(ZOO_DIR))


def _plain(value: Any) -> Any:
    """Config values as JSON values (tuples become lists, types their names)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return getattr(value, '__name__', repr(value))


def dump_config(path: str) -> dict:
    """The sections of one resolved config (a path relative to the repository)."""
    if REPO_ROOT not in sys.path:  # projects' configs import their modules from the root
        sys.path.insert(0, REPO_ROOT)
    cfg = Config.fromfile(osp.join(REPO_ROOT, path))
    return {key: _plain(cfg.get(key)) for key in SECTIONS}


def main() -> None:
    json.dump({path: dump_config(path) for path in config_paths()}, sys.stdout, indent=1,
              sort_keys=True)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
