"""What tools/train.py and tools/test.py share: their common options, loading a config,
building its runner."""
import argparse
import datetime
import importlib.util
import os
import os.path as osp
import sys
import warnings
from typing import Optional, Sequence

import torch
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmssl.registry import RUNNERS
from mmssl.utils import register_all_modules


# --vis-backend NAME: mmengine's backend, the package it needs, how to install that.
VIS_BACKENDS = dict(
    tensorboard=('TensorboardVisBackend', 'tensorboard',
                 "pip install 'mmssl[tensorboard]' (or: pip install tensorboard)"),
    wandb=('WandbVisBackend', 'wandb', 'pip install wandb, then wandb login'))


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """The options every runner tool takes: --work-dir, --amp, --cfg-options, --launcher,
    --vis-backend."""
    parser.add_argument('--work-dir', help='where logs and checkpoints go '
                        '(default: the config\'s work_dir, else ./work_dirs/<config name>)')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config values, e.g. train_cfg.max_epochs=1')
    parser.add_argument('--vis-backend', nargs='+', choices=sorted(VIS_BACKENDS), default=[],
                        help='also log the scalars to TensorBoard (event files in '
                        '<work_dir>/<timestamp>/vis_data) or Weights & Biases')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_runner_args(parser: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    """Parse, and export LOCAL_RANK as torch's launchers expect."""
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def load_config(path: str,
                cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None,
                launcher: str = 'none',
                amp: bool = False,
                vis_backends: Sequence[str] = ()) -> Config:
    """Read a config file and apply the command line's choices.

    ``work_dir`` defaults to the config's, else ``./work_dirs/<config name>``. Without a
    GPU, a distributed launch uses the gloo backend (nccl needs CUDA) and a CPU DDP.
    ``vis_backends``: names of :data:`VIS_BACKENDS` added to the config's visualizer.

    Raises:
        FileNotFoundError: naming ``path`` if it does not exist.
        ImportError: naming the package a visualizer backend needs, if it is missing, or
            the set-up command when the config's models need mmcv's compiled ops.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path}')
    cfg = Config.fromfile(path, import_custom_modules=False)
    require_compiled_ops(cfg, path)
    import_custom_modules(cfg, path)
    unscope_collate_fns(cfg)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(path))[0])
    cfg.launcher = launcher
    if launcher != 'none' and not torch.cuda.is_available():
        # A CPU-only distributed run: gloo, and DDP without device_ids (mmengine's default
        # wrapper passes [LOCAL_RANK], a GPU index). See also init_cpu_process_group.
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
        if cfg.get('model_wrapper_cfg') is None:
            cfg.model_wrapper_cfg = dict(
                type='MMDistributedDataParallel', broadcast_buffers=False,
                find_unused_parameters=cfg.get('find_unused_parameters', False))
        cfg.model_wrapper_cfg.device_ids = None
    if amp:
        optim_wrapper = cfg.optim_wrapper
        if optim_wrapper.get('type', 'OptimWrapper') not in ('OptimWrapper', 'AmpOptimWrapper'):
            raise ValueError(f'--amp needs optim_wrapper.type OptimWrapper, got '
                             f'{optim_wrapper.type} in {path}')
        optim_wrapper.type = 'AmpOptimWrapper'
        optim_wrapper.setdefault('loss_scale', 'dynamic')
    add_vis_backends(cfg, vis_backends)
    return cfg


# Default scopes whose models import mmcv's compiled ops (mmcv.ops) when they are built.
SCOPES_NEEDING_OPS = ('mmdet',)


def require_compiled_ops(cfg: Config, path: str) -> None:
    """Fail early, saying how to get them, when ``cfg`` builds models that need mmcv's
    compiled ops and the installed mmcv has none (the demo's set-up installs mmcv without
    them); otherwise mmdet stops later with "No module named 'mmcv._ext'".

    Raises:
        ImportError: naming the config, its scope and the set-up command.
    """
    scope = cfg.get('default_scope')
    if scope not in SCOPES_NEEDING_OPS:
        return
    try:
        import mmcv.ops  # noqa: F401
    except ImportError as error:
        raise ImportError(
            f"{path} builds {scope} models, which need mmcv's compiled ops, and the "
            f'installed mmcv has none ({error}). Build and install them once (about 17 min '
            f'on 2 cores, cached): MMSSL_WITH_OPS=1 bash tools/setup_env.sh') from error


def add_vis_backends(cfg: Config, names: Sequence[str]) -> None:
    """Add mmengine's visualizer backends of ``names`` (:data:`VIS_BACKENDS`) to the
    config's visualizer (made with a ``LocalVisBackend`` if it has none).

    Raises:
        ImportError: naming the missing package and how to install it.
        KeyError: naming an unknown backend.
    """
    for name in names:
        if name not in VIS_BACKENDS:
            raise KeyError(f'unknown visualizer backend {name!r}; use one of '
                           f'{sorted(VIS_BACKENDS)}')
        backend, package, install = VIS_BACKENDS[name]
        if importlib.util.find_spec(package) is None:
            raise ImportError(f'--vis-backend {name} needs the {package} package, which is '
                              f'not installed: {install}')
        visualizer = cfg.get('visualizer') or dict(type='Visualizer')
        backends = list(visualizer.get('vis_backends') or [dict(type='LocalVisBackend')])
        if all(b.get('type') != backend for b in backends):
            backends.append(dict(type=backend))
        visualizer['vis_backends'] = backends
        cfg.visualizer = visualizer


def import_custom_modules(cfg: Config, path: str) -> None:
    """Import the ``custom_imports`` of the config at ``path``, from any working directory.

    A plugin project keeps its package in a folder above its configs (``<root>/<pkg>/``
    beside ``<root>/configs/``; the repository's ``projects.<name>.<pkg>`` under its root).
    When the top-level package of an import is not importable, the nearest folder above
    ``path`` that holds it goes first on ``sys.path``; importable packages are left as they
    are.

    Raises:
        ImportError: naming the config and the module, unless ``allow_failed_imports``.
    """
    custom = cfg.get('custom_imports')
    if not custom:
        return
    imports = custom['imports']
    for name in [imports] if isinstance(imports, str) else imports:
        package = name.split('.')[0]
        if importlib.util.find_spec(package) is None:
            root = _folder_holding(package, osp.dirname(osp.abspath(path)))
            if root is not None:
                sys.path.insert(0, root)
        try:
            importlib.import_module(name)
        except ImportError as e:
            if custom.get('allow_failed_imports', False):
                warnings.warn(f'custom_imports {name!r} of {path} failed and is ignored: {e}')
                continue
            raise ImportError(f'custom_imports {name!r} of {path}: {e} (a plugin package is '
                              f'looked for in the folders above the config, then on '
                              f'sys.path)') from e


def _folder_holding(package: str, folder: str) -> Optional[str]:
    """``folder`` or the nearest folder above it that holds ``package`` (a folder with an
    ``__init__.py``, or ``<package>.py``); ``None`` if none does."""
    while True:
        if (osp.isfile(osp.join(folder, package, '__init__.py'))
                or osp.isfile(osp.join(folder, f'{package}.py'))):
            return folder
        if osp.dirname(folder) == folder:
            return None
        folder = osp.dirname(folder)


def unscope_collate_fns(cfg: Config) -> None:
    """Drop the ``_scope_`` key of every ``collate_fn`` dict in ``cfg``, in place.

    mmengine marks the outermost typed dicts of a ``pkg::`` base (``_base_ =
    ['mmssl::...']``) with ``_scope_``, a dataloader's ``collate_fn`` among them, and then
    passes that key on to the function ("default_collate() got an unexpected keyword
    argument '_scope_'"). A collate function is found by its name alone (mmssl's with the
    ``mmssl.`` prefix), as in a config without scoped bases.
    """
    def walk(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get('collate_fn'), dict):
                node['collate_fn'].pop('_scope_', None)
            node = list(node.values())
        if isinstance(node, (list, tuple)):
            for child in node:
                walk(child)

    for value in cfg.values():
        walk(value)


class MetricsToVisualizerHook(Hook):
    """Write the metrics of a test run to the visualizer's backends (``scalars.json``,
    TensorBoard, W&B), which mmengine's ``LoggerHook`` only does for training and
    validation; before ``after_run``, where the ``LoggerHook`` closes them."""

    priority = 'LOW'

    def after_test_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        if metrics:
            runner.visualizer.add_scalars(metrics)


def init_cpu_process_group(cfg: Config) -> None:
    """Join torchrun's process group with gloo when there is no GPU.

    mmengine's ``init_dist`` for the ``pytorch`` launcher calls ``torch.cuda.set_device``
    whatever the backend, which fails on a CPU-only machine ("Found no NVIDIA driver").
    Its Runner skips ``init_dist`` when a process group exists, so one made here (env://,
    from torchrun's RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT) lets CPU runs go through.
    """
    if (cfg.get('launcher', 'none') == 'pytorch' and not torch.cuda.is_available()
            and not torch.distributed.is_initialized()):
        timeout = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout')
        kwargs = {} if timeout is None else dict(timeout=datetime.timedelta(seconds=timeout))
        torch.distributed.init_process_group(backend='gloo', **kwargs)


def build_runner(cfg: Config) -> Runner:
    """The config's runner (``runner_type`` if given, else mmengine's ``Runner``)."""
    register_all_modules(init_default_scope=False)
    init_cpu_process_group(cfg)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
