"""Training throughput of MoCo v2: mmssl against its ceiling and against mmpretrain.

One run, one machine, one folder of images, five measurements (``--rows``):

- ``ceiling``: the model step alone. mmssl's MoCo v2 model from ``--config``, its full
  training step (``model.train_step(data, optim_wrapper)`` through mmengine's optim
  wrapper, after ``model.set_progress`` and followed by ``model.ema_update()``, as
  mmssl's ``MomentumUpdateHook`` does) on two views already on the device (random uint8
  tensors made once; the data preprocessor only normalises them). No data loading, no
  augmentation: what the end-to-end rows approach when the data pipeline costs nothing.
- ``mmssl``: end to end, mmssl's runner on ``--config`` (by default the MoCo v2 config
  whose views are made on the device by the data preprocessor).
- ``peer``: end to end, mmpretrain's own MoCo v2 config (``--peer-config``) with its CPU
  augmentation pipeline, built and run in mmpretrain's scope, as mmpretrain ships it
  (fp32) unless ``--peer-amp``.
- ``mmssl-loader`` and ``peer-loader``: the data loaders of those two runs alone, the
  batches they deliver to the main process and nothing else (no copy to the device, no
  model): the data-loader ceiling of each. mmssl's workers (device-augmentation config)
  only decode and bound the size; the peer's make both augmented views. The views that
  mmssl then makes on the device cost what the ``mmssl`` row loses against ``ceiling``
  (``tools/benchmark/augmentation.py`` times them alone).

One image is one sample with all its views: img/s = batch x iters / seconds, timed over
``--iters`` iterations after ``--warmup`` iterations (on CUDA the clock is read after
``torch.cuda.synchronize()``). The end-to-end rows are mmengine ``Runner`` s built from
the configs with the same overrides: ``IterBasedTrainLoop`` of warmup + iters iterations,
the dataset pointed at ``--data`` (mmssl: ``ImageFolder`` ``data_root``; mmpretrain:
its ``ImageNet`` dataset with ``split=''``, ``with_label=False``, ``data_root`` the
folder, scanned recursively), batch size and workers from the command line, an
``InfiniteSampler`` (shuffled; no worker restart at the end of a small folder), no
checkpoint, logger, visualisation or evaluation hooks, and on CUDA
``cudnn_benchmark=True`` for every row. Each config keeps its own pipeline, model,
optimizer, lr schedule, remaining hooks (mmssl's default ``MomentumUpdateHook``) and
``pin_memory``. Peak GPU memory (``torch.cuda.max_memory_allocated``) is reset before
each row. A row that raises is reported as failed and the next one runs; the exit status
is then 1.

Three switches for the mmssl rows (ceiling and mmssl), each with a ``--no-`` form; left
out, the config's own setting holds (the default config sets all three):

- ``--amp``: a plain ``OptimWrapper`` becomes mmengine's ``AmpOptimWrapper`` with
  ``dtype='bfloat16'`` and its loss scaler disabled (bf16 has fp32's exponent range; a
  scaler would read ``found_inf`` on the host every step); needs CUDA. ``--no-amp``: a
  mixed-precision wrapper (``AmpOptimWrapper``, mmssl's ``AutocastOptimWrapper``) becomes
  the fp32 ``OptimWrapper``. On a CPU a config's ``AmpOptimWrapper`` (which mmengine
  refuses to run there) becomes ``OptimWrapper`` too. The table's precision column says
  what ran.
- ``--channels-last``: ``model.channels_last``: the conv weights, hence the activations,
  in NHWC memory format, which cuDNN's tensor-core kernels run faster on.
- ``--compile``: mmssl's ``CompileBackbonesHook``, ``torch.compile`` of the online and
  momentum backbones in place before training (heads, loss, queue and momentum update
  stay eager); ``--no-compile`` also drops mmengine's ``compile`` option. Compilation
  happens in the first iterations: give a ``--warmup`` that covers it.

``--image-size S`` (the crop size) scales every resize/crop size of the mmssl config,
CPU pipeline and device views alike, by S / its view size (so a CPU pre-crop keeps its
ratio to the views), sets the peer's ``RandomResizedCrop`` to S and the ceiling's views
to S x S. ``--depth`` swaps the ResNet depth in every row with a model (neck input channels
follow: 512 for ResNet-18/34, 2048 otherwise).

    python tools/benchmark/throughput.py --data /data/imagenet/train --batch-size 256
    python tools/benchmark/throughput.py --make-data 20000 --warmup 20 --out tp.json
    python tools/benchmark/throughput.py --data DIR --no-compile --rows ceiling,mmssl  # ablation
    # a CPU smoke test
    python tools/benchmark/throughput.py --make-data 8 --depth 18 --batch-size 4 --iters 2 \\
        --warmup 1 --workers 0 --image-size 32 --device cpu
"""
import argparse
import copy
import gc
import json
import os
import os.path as osp
import shlex
import shutil
import sys
import tempfile
import time
import traceback
from typing import Callable, Optional

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join(
    REPO_ROOT, 'configs/mocov2/mocov2_resnet50-devaug_1xb256-amp-coslr-200e_in1k.py')
DEFAULT_PEER_CONFIG = 'mmpretrain::mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py'
ROWS = ('ceiling', 'mmssl', 'peer', 'mmssl-loader', 'peer-loader')
ROW_TITLES = {
    'ceiling': 'model step only (views on the device)',
    'mmssl': 'mmssl end to end',
    'peer': "mmpretrain's MoCo v2 end to end",
    'mmssl-loader': "mmssl's data loader alone",
    'peer-loader': "mmpretrain's data loader alone",
}
MIXED_PRECISION_WRAPPERS = ('AmpOptimWrapper', 'AutocastOptimWrapper')
RATIOS = (('mmssl', 'peer'), ('mmssl', 'ceiling'), ('peer', 'ceiling'),
          ('mmssl-loader', 'peer-loader'), ('mmssl-loader', 'ceiling'),
          ('peer-loader', 'ceiling'))
# Image files both datasets read (mmssl's ImageFolder and mmpretrain's ImageNet).
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')
# The size argument of each resize/crop transform, CPU (mmcv/mmpretrain) and device (mmssl).
SIZE_KEYS = {
    'RandomResizedCrop': 'scale',
    'Resize': 'scale',
    'ResizeEdge': 'scale',
    'CenterCrop': 'crop_size',
    'RandomCrop': 'crop_size',
    'BatchRandomResizedCrop': 'size',
    'ResizeToFit': 'max_size',
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Training throughput (img/s) of MoCo v2: model step only, mmssl end to '
        "end, mmpretrain's MoCo v2 end to end", formatter_class=argparse.RawTextHelpFormatter)
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument('--data', metavar='DIR', help='a folder of images (searched recursively)')
    data.add_argument('--make-data', type=int, metavar='N',
                      help='write N ImageNet-like JPEG files to a temporary folder and use it')
    parser.add_argument('--keep-data', action='store_true',
                        help='keep the folder written by --make-data (its path is printed)')
    parser.add_argument('--config', default=DEFAULT_CONFIG,
                        help='the mmssl MoCo v2 config (default: %(default)s)')
    parser.add_argument('--peer-config', default=DEFAULT_PEER_CONFIG,
                        help="mmpretrain's MoCo v2 config (default: %(default)s)")
    parser.add_argument('--rows', default=','.join(ROWS),
                        help='comma-separated rows to measure (default: %(default)s)')
    parser.add_argument('--device', choices=['cuda', 'cpu'],
                        help='default: cuda if available, else cpu')
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--workers', type=int, default=8, help='dataloader workers')
    parser.add_argument('--warmup', type=int, default=10, help='untimed iterations first')
    parser.add_argument('--iters', type=int, default=50, help='timed iterations')
    parser.add_argument('--image-size', type=int, metavar='S',
                        help="crop size of the views (default: the configs' own, 224)")
    parser.add_argument('--depth', type=int, choices=[18, 34, 50, 101, 152], default=50,
                        help='ResNet depth of every model (default: %(default)s)')
    on_off = argparse.BooleanOptionalAction
    parser.add_argument('--amp', action=on_off,
                        help="mmssl rows: bf16 autocast (AmpOptimWrapper, CUDA only), or fp32 "
                        "(--no-amp); default: the config's")
    parser.add_argument('--channels-last', action=on_off,
                        help="mmssl rows: channels-last conv weights and activations, or not; "
                        "default: the config's")
    parser.add_argument('--compile', action=on_off,
                        help="mmssl rows: torch.compile the backbones (CompileBackbonesHook), "
                        "or compile nothing; default: the config's")
    parser.add_argument('--peer-amp', action='store_true',
                        help='peer row: bf16 autocast as --amp (default: fp32, as shipped)')
    parser.add_argument('--out', metavar='FILE.json', help='also write the results as JSON')
    args = parser.parse_args(argv)

    args.rows = [row.strip() for row in args.rows.split(',') if row.strip()]
    unknown = sorted(set(args.rows) - set(ROWS))
    if unknown or not args.rows:
        parser.error(f'--rows: unknown row(s) {unknown}; choose from {",".join(ROWS)}')
    args.rows = [row for row in ROWS if row in args.rows]
    for name in ('batch_size', 'warmup', 'iters'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be at least 1')
    if args.workers < 0:
        parser.error('--workers must be >= 0')
    if args.make_data is not None and args.make_data < 1:
        parser.error('--make-data N needs N >= 1')
    if args.image_size is not None and args.image_size < 8:
        parser.error('--image-size must be at least 8')
    return args


# ----------------------------------------------------------------------------- data


def find_images(folder: str) -> list[str]:
    """The image files under ``folder`` (recursively), sorted.

    Raises:
        SystemExit: naming ``folder`` if it is not a folder or holds no image.
    """
    from mmssl.datasets.image_folder import find_files

    if not osp.isdir(folder):
        raise SystemExit(f'--data: {folder!r} is not a folder')
    found = sorted(find_files(folder, IMAGE_EXTENSIONS))
    if not found:
        raise SystemExit(f'--data: {folder!r} holds no image '
                         f'({", ".join(IMAGE_EXTENSIONS)}, searched recursively)')
    return found


# ImageNet's common shapes (width, height); 500 x 375 and 375 x 500 dominate.
_SHAPES = ((500, 375), (500, 375), (500, 375), (375, 500), (500, 333), (333, 500), (500, 500))


def _write_image(job: tuple[str, int]) -> int:
    """Write one ImageNet-like JPEG: a smooth random colour field plus texture, at a
    typical ImageNet size, quality 90 (about 100 KB, like ImageNet's mean of ~110 KB).
    Returns its size in bytes."""
    import cv2
    import numpy as np

    path, seed = job
    rng = np.random.default_rng(seed)
    width, height = _SHAPES[rng.integers(len(_SHAPES))]
    if rng.random() < 0.3:  # some smaller images
        scale = rng.uniform(0.6, 1.0)
        width, height = int(width * scale), int(height * scale)
    cells = rng.integers(3, 9, size=2)
    coarse = rng.uniform(0, 255, size=(cells[0], cells[1], 3)).astype(np.float32)
    image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    # Texture at two scales: 8-px blobs and pixel noise (JPEG sizes like real photos').
    blobs = rng.normal(0, 25, size=(height // 8, width // 8, 3)).astype(np.float32)
    image += cv2.resize(blobs, (width, height), interpolation=cv2.INTER_LINEAR)
    image += rng.normal(0, rng.uniform(18, 28), size=image.shape).astype(np.float32)
    ok, encoded = cv2.imencode('.jpg', np.clip(image, 0, 255).astype(np.uint8),
                               [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise RuntimeError(f'cannot encode {path}')
    encoded.tofile(path)
    return encoded.size


def make_data(count: int, folder: str) -> float:
    """Write ``count`` JPEG files to ``folder``; returns their mean size in KB."""
    import multiprocessing

    jobs = [(osp.join(folder, f'{i:07d}.jpg'), i) for i in range(count)]
    processes = min(os.cpu_count() or 1, 16, max(1, count // 64))
    if processes > 1:
        with multiprocessing.get_context('fork').Pool(processes) as pool:
            sizes = pool.map(_write_image, jobs, chunksize=64)
    else:
        sizes = [_write_image(job) for job in jobs]
    return sum(sizes) / len(sizes) / 1000


# --------------------------------------------------------------------------- configs


def _transforms(node):
    """Every transform dict (one with a ``type``) inside ``node``, nested ones included."""
    if isinstance(node, dict):
        if 'type' in node:
            yield node
        for value in node.values():
            yield from _transforms(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _transforms(value)


def _sized(transforms) -> list[tuple[dict, str]]:
    return [(t, SIZE_KEYS[t['type']]) for t in transforms
            if t.get('type') in SIZE_KEYS and SIZE_KEYS[t['type']] in t]


def _first_side(size) -> int:
    return size if isinstance(size, int) else max(size)


def view_size(cfg) -> int:
    """The side of the training views of ``cfg``: its device crop, else its CPU crop."""
    device = _sized(_transforms(_preprocessor(cfg)))
    cpu = [(t, key) for t, key in _sized(_transforms(cfg.train_dataloader.dataset))
           if t['type'] == 'RandomResizedCrop']
    if not device and not cpu:
        raise SystemExit('cannot find the view size of the config: no RandomResizedCrop in '
                         'its pipeline, no BatchRandomResizedCrop in its data preprocessor')
    transform, key = (device or cpu)[-1]
    return _first_side(transform[key])


def scale_sizes(cfg, image_size: int) -> None:
    """In place: multiply every resize/crop size of ``cfg``'s training pipeline and
    device views by ``image_size`` / its view size."""
    factor = image_size / view_size(cfg)

    def scaled(size):
        if isinstance(size, int):
            return max(1, round(size * factor)) if size > 0 else size
        return type(size)(scaled(side) for side in size)

    for transform, key in (_sized(_transforms(cfg.train_dataloader.dataset))
                           + _sized(_transforms(_preprocessor(cfg)))):
        transform[key] = scaled(transform[key])


def _preprocessor(cfg) -> dict:
    """The data preprocessor config the runner gives the model."""
    return cfg.model.get('data_preprocessor') or cfg.get('data_preprocessor') or {}


def set_depth(model_cfg, depth: int) -> None:
    channels = 512 if depth in (18, 34) else 2048
    model_cfg.backbone.depth = depth
    if model_cfg.get('neck') and 'in_channels' in model_cfg.neck:
        model_cfg.neck.in_channels = channels
    if model_cfg.get('online_probe') and 'in_channels' in model_cfg.online_probe:
        model_cfg.online_probe.in_channels = channels


def set_amp(cfg, wanted: Optional[bool], cuda: bool) -> str:
    """In place: the precision of ``cfg``'s optim wrapper for this run; returns it in words.

    ``wanted`` True turns a plain ``OptimWrapper`` into mmengine's ``AmpOptimWrapper``
    with bf16 autocast and its loss scaler disabled (no scaling, no host sync; CUDA
    only); False turns a mixed-precision wrapper into ``OptimWrapper``; None keeps the
    config's, except an ``AmpOptimWrapper`` without CUDA, which becomes the fp32
    ``OptimWrapper`` (mmengine's refuses to run on a CPU).
    """
    wrapper = cfg.optim_wrapper
    kind = wrapper.get('type', 'OptimWrapper')
    if wanted is False and kind in MIXED_PRECISION_WRAPPERS:
        wrapper.type = kind = 'OptimWrapper'
        for key in ('loss_scale', 'dtype', 'use_fsdp'):
            wrapper.pop(key, None)
    if kind == 'OptimWrapper':
        if not wanted:
            return 'fp32'
        if not cuda:
            raise SystemExit("--amp/--peer-amp need CUDA (mmengine's AmpOptimWrapper)")
        wrapper.update(type='AmpOptimWrapper', dtype='bfloat16', loss_scale=dict(enabled=False))
        return 'bf16 autocast (AmpOptimWrapper, no loss scaler)'
    if kind == 'AmpOptimWrapper' and not cuda:
        wrapper.type = 'OptimWrapper'
        for key in ('loss_scale', 'dtype', 'use_fsdp'):
            wrapper.pop(key, None)
        return "fp32 (the config's AmpOptimWrapper needs CUDA)"
    dtype = wrapper.get('dtype')
    return f"{kind}{f' {dtype}' if dtype else ''} (config)"


def _compile_hooks(cfg) -> list[dict]:
    return [hook for hook in cfg.get('custom_hooks') or []
            if hook.get('type') == 'CompileBackbonesHook']


def set_compile(cfg, wanted: Optional[bool]) -> str:
    """In place: what ``cfg`` compiles in this run; returns it in words.

    ``wanted`` True adds mmssl's ``CompileBackbonesHook`` if missing, False removes it
    and mmengine's ``compile`` option, None keeps the config's.
    """
    if wanted is False:
        cfg.custom_hooks = [hook for hook in cfg.get('custom_hooks') or []
                            if hook.get('type') != 'CompileBackbonesHook']
        cfg.compile = None
    elif wanted and not _compile_hooks(cfg):
        cfg.custom_hooks = [*(cfg.get('custom_hooks') or []),
                            dict(type='CompileBackbonesHook')]
    what = (['backbones (CompileBackbonesHook)'] if _compile_hooks(cfg) else []) + \
        (['train_step (compile option)'] if cfg.get('compile') else [])
    return ', '.join(what) or 'no'


def runner_overrides(cfg, args, work_dir: str, name: str, cuda: bool) -> None:
    """In place: the overrides both end-to-end rows share (see the module docstring)."""
    loader = cfg.train_dataloader
    loader.batch_size = args.batch_size
    loader.num_workers = args.workers
    loader.persistent_workers = bool(args.workers and loader.get('persistent_workers', False))
    if not args.workers:
        loader.pop('prefetch_factor', None)
    loader.sampler = dict(type='InfiniteSampler', shuffle=True)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=args.warmup + args.iters)
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator', 'test_dataloader', 'test_cfg',
                'test_evaluator'):
        cfg[key] = None
    hooks = cfg.get('default_hooks') or {}
    hooks.pop('visualization', None)
    hooks.update(checkpoint=None, logger=None)  # None: mmengine leaves its default out
    cfg.default_hooks = hooks
    cfg.custom_hooks = [hook for hook in cfg.get('custom_hooks') or []
                        if not any(word in str(hook.get('type', '')) for word in
                                   ('Eval', 'Checkpoint', 'Visualiz'))]
    cfg.work_dir = work_dir
    cfg.experiment_name = f'throughput-{name}-{os.getpid()}'
    cfg.log_level = 'WARNING'
    cfg.load_from, cfg.resume, cfg.launcher = None, False, 'none'
    cfg.randomness = dict(seed=0, deterministic=False)
    cfg.setdefault('env_cfg', {})['cudnn_benchmark'] = cuda


def mmssl_config(args, data_dir: str, cuda: bool):
    """The mmssl config with the command line's choices (shared by ceiling and mmssl)."""
    from mmengine.config import Config

    if not osp.isfile(args.config):
        raise SystemExit(f'--config: file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    set_depth(cfg.model, args.depth)
    if args.image_size:
        scale_sizes(cfg, args.image_size)
    if args.channels_last is not None:
        cfg.model.channels_last = args.channels_last
    dataset = cfg.train_dataloader.dataset
    dataset.data_root = data_dir
    if 'ann_file' in dataset:
        dataset.ann_file = ''
    from mmssl.models.algorithms import DenseCL, MoCo
    from mmssl.models.utils.shuffle_bn import DEFAULT_BN_SPLITS
    from mmssl.registry import MODELS
    from mmssl.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    model_class = MODELS.get(cfg.model.type)
    shuffles = isinstance(model_class, type) and issubclass(model_class, (MoCo, DenseCL))
    splits = cfg.model.get('bn_splits', DEFAULT_BN_SPLITS if shuffles else 1)
    if splits > 1 and (args.batch_size % splits or args.batch_size // splits < 2):
        # Shuffling BN on one process needs groups of 2 images or more (small test batches).
        cfg.model.bn_splits = max(n for n in range(1, splits + 1)
                                  if args.batch_size % n == 0 and args.batch_size // n >= 2)
        print(f'[throughput] model.bn_splits {splits} -> {cfg.model.bn_splits} for a batch '
              f'of {args.batch_size}', flush=True)
    settings = dict(precision=set_amp(cfg, args.amp, cuda),
                    channels_last=bool(cfg.model.get('channels_last', False)),
                    compile=set_compile(cfg, args.compile))
    return cfg, settings


def peer_config(args, data_dir: str, cuda: bool):
    """mmpretrain's MoCo v2 config pointed at ``data_dir``, as shipped otherwise."""
    import mmpretrain
    from mmengine.config import Config

    path = args.peer_config
    if path.startswith('mmpretrain::'):
        rel = path[len('mmpretrain::'):]
        root = osp.dirname(mmpretrain.__file__)
        candidates = [osp.join(root, '.mim', 'configs', rel),
                      osp.join(osp.dirname(root), 'configs', rel)]
        path = next((p for p in candidates if osp.isfile(p)), candidates[0])
    if not osp.isfile(path):
        raise SystemExit(f'--peer-config: file not found: {args.peer_config} ({path})')
    cfg = Config.fromfile(path)
    set_depth(cfg.model, args.depth)
    if args.image_size:
        for transform, key in _sized(_transforms(cfg.train_dataloader.dataset)):
            if transform['type'] == 'RandomResizedCrop':
                transform[key] = args.image_size
    dataset = cfg.train_dataloader.dataset
    # mmpretrain's ImageNet: split='' (no train/ prefix, no meta/train.txt), no labels, so
    # that the folder is scanned recursively for image files.
    dataset.update(data_root=data_dir, split='', data_prefix='', ann_file='',
                   with_label=False)
    settings = dict(precision=set_amp(cfg, args.peer_amp or None, cuda),
                    channels_last=bool(cfg.model.get('channels_last', False)),
                    compile=set_compile(cfg, None))
    return cfg, path, settings


# ---------------------------------------------------------------------------- timing


def _sync_fn(cuda: bool) -> Callable[[], None]:
    import torch
    return torch.cuda.synchronize if cuda else (lambda: None)


def time_ceiling(cfg, args, settings: dict, cuda: bool) -> dict:
    """The model step alone on fixed views (see the module docstring)."""
    import torch
    from mmengine.optim import build_optim_wrapper

    from mmssl.models.utils import TrainingProgress
    from mmssl.registry import MODELS
    from mmssl.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    torch.backends.cudnn.benchmark = cuda
    torch.manual_seed(0)
    device = torch.device('cuda' if cuda else 'cpu')
    side = args.image_size or view_size(cfg)
    model_cfg = copy.deepcopy(cfg.model)
    pre = dict(_preprocessor(cfg))
    # The same normalisation, no view making: the views below are the finished ones.
    model_cfg.data_preprocessor = dict(
        type='SelfSupDataPreprocessor', num_views=2,
        **{k: pre[k] for k in ('mean', 'std', 'to_rgb') if k in pre})
    model = MODELS.build(model_cfg).to(device)
    model.train()
    for hook in _compile_hooks(cfg):  # as CompileBackbonesHook does before training
        model.compile_backbones(**{k: v for k, v in hook.items() if k != 'type'})
    if cfg.get('compile'):  # as mmengine's runner does with the config's compile
        options = {} if cfg.compile is True else dict(cfg.compile)
        model.train_step = torch.compile(model.train_step, **options)
    optim_wrapper = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    views = [torch.randint(0, 256, (args.batch_size, 3, side, side), dtype=torch.uint8,
                           device=device) for _ in range(2)]
    data = dict(inputs=views, data_samples=None)
    total = args.warmup + args.iters
    sync = _sync_fn(cuda)
    start = None
    for it in range(total):
        if it == args.warmup:
            sync()
            start = time.perf_counter()
        model.set_progress(TrainingProgress(it, total))
        model.train_step(data, optim_wrapper)
        if hasattr(model, 'ema_update'):
            model.ema_update()
    sync()
    seconds = time.perf_counter() - start
    del model, optim_wrapper, views, data
    return dict(seconds=seconds, view_size=side, **settings)


def input_shapes(batch: dict) -> list[list[int]]:
    """The shape of each view tensor in a collated batch's ``inputs`` (one tensor or a
    list of views)."""
    inputs = batch['inputs']
    inputs = [inputs] if hasattr(inputs, 'shape') else inputs
    return [list(view.shape) for view in inputs]


def _stopwatch(warmup: int, total: int, sync: Callable[[], None]):
    """A hook that reads the clock after iteration ``warmup`` and after the last one."""
    from mmengine.hooks import Hook

    class Stopwatch(Hook):
        priority = 'LOWEST'  # after the other hooks of the iteration (momentum update)

        def __init__(self):
            self.marks = {}

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            done = runner.iter + 1  # the loop counts the iteration after its hooks
            if done in (warmup, total):
                sync()
                self.marks[done] = time.perf_counter()
            if done == total:  # what the dataloader delivers, for the record
                self.loader_shapes = input_shapes(data_batch)

    return Stopwatch()


def _shutdown_workers(runner) -> None:
    """Stop the dataloader workers of ``runner``'s train loop now, not at exit."""
    loop = getattr(runner, '_train_loop', None)
    iterator = getattr(getattr(loop, 'dataloader_iterator', None), '_iterator', None)
    if hasattr(iterator, '_shutdown_workers'):
        iterator._shutdown_workers()


def time_runner(runner, args, cuda: bool) -> dict:
    """Train ``runner`` for warmup + iters iterations; the seconds of the last ``iters``."""
    total = args.warmup + args.iters
    stopwatch = _stopwatch(args.warmup, total, _sync_fn(cuda))
    runner.register_hook(stopwatch)
    try:
        runner.train()
    finally:
        _shutdown_workers(runner)
    return dict(seconds=stopwatch.marks[total] - stopwatch.marks[args.warmup],
                images=len(runner.train_dataloader.dataset),
                loader_output=stopwatch.loader_shapes)


def time_loader(cfg, args) -> dict:
    """Iterate the data loader of ``cfg`` (built in its ``default_scope``) alone for
    warmup + iters batches; the seconds of the last ``iters``."""
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    from mmpretrain.utils import register_all_modules as register_mmpretrain

    from mmssl.utils import register_all_modules as register_mmssl

    register_mmssl(init_default_scope=False)
    register_mmpretrain(init_default_scope=False)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmssl')):
        loader = Runner.build_dataloader(copy.deepcopy(cfg.train_dataloader), seed=0)
    batches = iter(loader)
    try:
        for _ in range(args.warmup):
            next(batches)
        start = time.perf_counter()
        for _ in range(args.iters):
            batch = next(batches)
        seconds = time.perf_counter() - start
    finally:
        if hasattr(batches, '_shutdown_workers'):
            batches._shutdown_workers()
    return dict(seconds=seconds, images=len(loader.dataset), loader_output=input_shapes(batch),
                precision='-', channels_last=None, compile='-')


def measure_row(name: str, args, mmssl_cfg, mmssl_settings: Optional[dict], data_dir: str,
                work_dir: str, cuda: bool) -> dict:
    """One row of the table: img/s, seconds, peak GPU memory and the row's settings."""
    import torch

    if cuda:
        torch.cuda.reset_peak_memory_stats()
    if name == 'ceiling':
        row = time_ceiling(mmssl_cfg, args, mmssl_settings, cuda)
        row['config'] = shown_path(args.config) + ' (model, optim wrapper)'
    else:
        peer = name.startswith('peer')
        if peer:
            cfg, _, settings = peer_config(args, data_dir, cuda)
        else:
            cfg, settings = copy.deepcopy(mmssl_cfg), mmssl_settings
        runner_overrides(cfg, args, work_dir, name, cuda)
        if name.endswith('-loader'):
            row = time_loader(cfg, args)
        else:
            runner = build_peer_runner(cfg) if peer else build_mmssl_runner(cfg)
            row = dict(time_runner(runner, args, cuda), **settings)
            del runner
        row['config'] = args.peer_config if peer else shown_path(args.config)
    row['img_per_s'] = args.batch_size * args.iters / row['seconds']
    row['peak_memory_gib'] = torch.cuda.max_memory_allocated() / 2**30 if cuda else None
    return row


def build_mmssl_runner(cfg):
    from mmssl.apis import build_runner
    return build_runner(cfg)


def build_peer_runner(cfg):
    from mmengine.runner import Runner
    from mmpretrain.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    return Runner.from_cfg(cfg)


# ---------------------------------------------------------------------------- report


def shown_path(path: str) -> str:
    """``path`` relative to the repository when inside it, else absolute."""
    path = osp.abspath(path)
    inside = path.startswith(REPO_ROOT + os.sep)
    return osp.relpath(path, REPO_ROOT) if inside else path


def ratios(rows: dict) -> dict:
    return {f'{a}/{b}': rows[a]['img_per_s'] / rows[b]['img_per_s']
            for a, b in RATIOS if a in rows and b in rows}


def markdown(result: dict) -> str:
    cuda = result['device_type'] == 'cuda'
    lines = [f"MoCo v2 ResNet-{result['depth']} training throughput, batch "
             f"{result['batch_size']}, {result['iters']} timed iterations after "
             f"{result['warmup']}, views {result['view_size']} px, "
             f"{result['workers']} dataloader workers",
             '',
             '| row | what | img/s | s | peak GPU memory (GiB) | precision | channels last '
             '| compile | config |',
             '| --- | --- | ---: | ---: | ---: | --- | --- | --- | --- |']
    for name, row in result['rows'].items():
        memory = f"{row['peak_memory_gib']:.2f}" if cuda else '-'
        channels_last = {True: 'yes', False: 'no', None: '-'}[row['channels_last']]
        lines.append(f"| {name} | {ROW_TITLES[name]} | {row['img_per_s']:.1f} | "
                     f"{row['seconds']:.3f} | {memory} | {row['precision']} | "
                     f"{channels_last} | {row['compile']} | "
                     f"`{row['config']}` |")
    for name, error in result.get('failed', {}).items():
        lines.append(f'| {name} | {ROW_TITLES[name]} | failed: {error} | | | | | | |')
    if result['ratios']:
        lines += ['', ', '.join(f'{key} = {value:.3f}' for key, value in
                                result['ratios'].items())]
    lines += ['', f"device: {result['device']}; torch {result['torch']}, mmengine "
              f"{result['mmengine']}, mmpretrain {result['mmpretrain']}",
              f"data: {result['data']}",
              f"command: `{result['command']}`"]
    return '\n'.join(lines)


def main(argv=None) -> dict:
    args = parse_args(argv)
    command = shlex.join(['python', *(sys.argv if argv is None else
                                      [shown_path(__file__), *argv])])
    if args.device == 'cpu':
        os.environ['CUDA_VISIBLE_DEVICES'] = ''  # the runner picks CUDA whenever it sees it
    sys.path.insert(0, REPO_ROOT)
    import mmengine
    import mmpretrain
    import torch

    cuda = torch.cuda.is_available()
    if args.device == 'cuda' and not cuda:
        raise SystemExit('--device cuda: no CUDA device is available')
    if cuda:
        device_name = f'{torch.cuda.get_device_name()} (CUDA {torch.version.cuda})'
    else:
        device_name = f'CPU, {torch.get_num_threads()} torch threads'

    scratch = tempfile.mkdtemp(prefix='mmssl-throughput-')
    data_dir = args.data
    try:
        if args.make_data:
            data_dir = tempfile.mkdtemp(prefix='mmssl-throughput-images-')
            start = time.perf_counter()
            kb = make_data(args.make_data, data_dir)
            data_text = (f'{args.make_data} generated JPEG files, {kb:.0f} KB on average '
                         f'({time.perf_counter() - start:.0f} s to write)')
            print(f'[throughput] {data_text} in {data_dir}', flush=True)
        else:
            data_dir = osp.abspath(data_dir)
            data_text = f'{data_dir} ({len(find_images(data_dir))} images)'

        mmssl_cfg = mmssl_settings = None
        if {'ceiling', 'mmssl', 'mmssl-loader'} & set(args.rows):
            mmssl_cfg, mmssl_settings = mmssl_config(args, data_dir, cuda)
        views = args.image_size or view_size(mmssl_cfg or peer_config(args, data_dir, cuda)[0])
        rows, failed = {}, {}
        for name in args.rows:
            print(f'[throughput] {name}: {ROW_TITLES[name]}', flush=True)
            try:
                rows[name] = measure_row(name, args, mmssl_cfg, mmssl_settings, data_dir,
                                         osp.join(scratch, name), cuda)
            except Exception as error:  # one row's failure must not lose the others' figures
                traceback.print_exc()
                failed[name] = f'{type(error).__name__}: {error}'.splitlines()[0]
                print(f'[throughput] {name}: failed ({failed[name]})', flush=True)
            else:
                print(f"[throughput] {name}: {rows[name]['img_per_s']:.1f} img/s", flush=True)
            gc.collect()  # after a failed row too: it may hold the most memory
            if cuda:
                torch.cuda.empty_cache()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if args.make_data and data_dir:
            if args.keep_data:
                print(f'[throughput] kept the images in {data_dir}')
            else:
                shutil.rmtree(data_dir, ignore_errors=True)

    result = dict(
        command=command, device=device_name, device_type='cuda' if cuda else 'cpu',
        torch=torch.__version__, mmengine=mmengine.__version__,
        mmpretrain=mmpretrain.__version__, data=data_text, depth=args.depth,
        batch_size=args.batch_size, iters=args.iters, warmup=args.warmup,
        workers=args.workers, view_size=views,
        rows=rows, failed=failed, ratios=ratios(rows))
    print(markdown(result))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    sys.exit(1 if main()['failed'] else 0)
