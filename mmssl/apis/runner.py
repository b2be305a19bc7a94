"""What tools/train.py and tools/test.py share: their common options, loading a config,
building its runner."""
import argparse
import datetime
import os
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmssl.registry import RUNNERS
from mmssl.utils import register_all_modules


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """The options every runner tool takes: --work-dir, --amp, --cfg-options, --launcher."""
    parser.add_argument('--work-dir', help='where logs and checkpoints go '
                        '(default: the config\'s work_dir, else ./work_dirs/<config name>)')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config values, e.g. train_cfg.max_epochs=1')
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
                amp: bool = False) -> Config:
    """Read a config file and apply the command line's choices.

    ``work_dir`` defaults to the config's, else ``./work_dirs/<config name>``. Without a
    GPU, a distributed launch uses the gloo backend (nccl needs CUDA) and a CPU DDP.

    Raises:
        FileNotFoundError: naming ``path`` if it does not exist.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path}')
    cfg = Config.fromfile(path)
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
    return cfg


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
