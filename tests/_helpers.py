"""Helpers the tests share: tiny real models and inputs, and where the demo data lives."""
import glob
import json
import os
import os.path as osp
import traceback
import uuid

import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# Where the configs read Fashion-MNIST: MMSSL_FMNIST_ROOT, else the Debian package's folder.
FASHION_MNIST_ROOT = os.environ.get('MMSSL_FMNIST_ROOT') or '/usr/share/datasets/fashion-mnist'


def resnet18(**kwargs) -> dict:
    """mmpretrain's ResNet-18 with BN, last stage only (512 channels)."""
    return dict(type='ResNet', depth=18, out_indices=(3,), norm_cfg=dict(type='BN'), **kwargs)


def image_views(batch: int, size: int = 32, num_views: int = 2, seed: int = 0) -> list:
    """Fixed random normalised views (batch, 3, size, size)."""
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, 3, size, size, generator=gen) for _ in range(num_views)]


DEMO_CONFIG = osp.join(REPO_ROOT, 'configs/mocov2/mocov2_resnet18_1xb256-coslr-2e_fmnist.py')
# Two views without randomness (identity, horizontal flip), made on the CPU instead of by the
# data preprocessor: runs are bitwise repeatable.
DETERMINISTIC_PIPELINE = [
    dict(type='MultiView', num_views=[1, 1],
         transforms=[[], [dict(type='RandomFlip', prob=1.0)]]),
    dict(type='PackInputs'),
]


def tiny_run_overrides(work_dir: str, images: int = 32, batch: int = 8, epochs: int = 1,
                       deterministic: bool = False) -> dict:
    """Config overrides that shrink the MoCo v2 demo config to a few CPU seconds."""
    dataset = dict(indices=images)
    overrides = {}
    if deterministic:
        dataset['pipeline'] = DETERMINISTIC_PIPELINE
        overrides['data_preprocessor'] = dict(device_views=None)
    return dict(
        overrides,
        work_dir=work_dir,
        # mmengine keeps one visualizer per experiment name (default: the start second), so
        # two runners started within a second in one process would share a log directory.
        experiment_name=f'test-{uuid.uuid4().hex[:12]}',
        train_dataloader=dict(dataset=dataset, batch_size=batch, num_workers=0,
                              persistent_workers=False),
        model=dict(dictionary=dict(queue_length=64), bn_splits=1),
        train_cfg=dict(max_epochs=epochs),
        param_scheduler=[dict(type='CosineAnnealingLR', T_max=epochs, by_epoch=True, begin=0,
                              end=epochs, convert_to_iter_based=True)],
        custom_hooks=[],  # no kNN evaluation
        default_hooks=dict(logger=dict(interval=1),
                           checkpoint=dict(interval=1, max_keep_ckpts=2)),
        log_level='WARNING')


def write_config(path: str, base: str, overrides: dict) -> str:
    """A config file at ``path`` that inherits ``base`` and sets ``overrides``."""
    lines = [f'_base_ = {base!r}'] + [f'{key} = {value!r}' for key, value in overrides.items()]
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def logged_train_iterations(work_dir: str) -> list[list[int]]:
    """The training iterations (1-based) that each run in ``work_dir`` logged, oldest first.

    Read from the json scalars of mmengine's ``LoggerHook`` (``<timestamp>/vis_data/
    scalars.json``, written by rank 0; the tests log every iteration). A run resumed from a
    checkpoint of iteration k lists k + 1, k + 2, ...; a restart from zero lists 1, 2, ...
    Runs are told apart by their log folders and, where two share one (started in the same
    second), by the iteration going back.
    """
    runs: list[list[int]] = []
    for path in sorted(glob.glob(osp.join(str(work_dir), '*', 'vis_data', 'scalars.json'))):
        previous = None
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                if 'loss' not in record:  # not a training iteration (e.g. a kNN evaluation)
                    continue
                if previous is None or record['step'] <= previous:
                    runs.append([])
                runs[-1].append(record['step'])
                previous = record['step']
    return runs


def assert_resumed(work_dir: str, stopped_after: int, resumed_from: int,
                   max_iters: int) -> None:
    """``work_dir`` holds two runs: one that logged iterations 1..``stopped_after`` (then
    died), and one that resumed from the checkpoint of iteration ``resumed_from`` and
    logged ``resumed_from + 1``..``max_iters`` (not a restart from iteration 1)."""
    runs = logged_train_iterations(work_dir)
    assert runs == [list(range(1, stopped_after + 1)),
                    list(range(resumed_from + 1, max_iters + 1))], runs


# Calls that make a GPU step wait for the device: reading a value back, or making a tensor
# from host values (``torch.tensor(x, device='cuda')`` copies from pageable memory and syncs).
HOST_READS = {torch.Tensor: ('item', 'tolist', '__bool__', '__float__', '__int__')}
HOST_ROUND_TRIPS = {torch: ('tensor', 'as_tensor'),
                    torch.Tensor: HOST_READS[torch.Tensor] + ('new_tensor', 'cpu', 'numpy')}
_TORCH_DIR = osp.dirname(torch.__file__) + osp.sep


class HostCallRecorder:
    """Records 'name at file:line' of each call in ``names`` made while recording.

    ``names`` maps an owner (``torch``, ``torch.Tensor``) to attribute names, which are
    patched through ``monkeypatch``; ``with recorder:`` (or ``recorder.active = True``)
    records. On a CPU this finds, by name and line, what would sync on a GPU. Calls made
    by torch's own code are left out: its optimizers keep their step counts in CPU
    tensors on purpose (``.item()`` of those waits for nothing).
    """

    def __init__(self, monkeypatch, names: dict = HOST_ROUND_TRIPS) -> None:
        self.calls: list[str] = []
        self.active = False
        for owner, attributes in names.items():
            for name in attributes:
                monkeypatch.setattr(owner, name, self._recording(getattr(owner, name), name))

    def _recording(self, original, name: str):
        def recorded(*args, **kwargs):
            if self.active:
                caller = traceback.extract_stack(limit=2)[0]
                if not caller.filename.startswith(_TORCH_DIR):
                    self.calls.append(f'{name} at {caller.filename}:{caller.lineno}')
            return original(*args, **kwargs)
        return recorded

    def __enter__(self) -> 'HostCallRecorder':
        self.active = True
        return self

    def __exit__(self, *exc) -> None:
        self.active = False


def ema_step(model, it: int, max_iters: int):
    """What ``MomentumUpdateHook`` does around training iteration ``it`` of ``max_iters``
    for the EMA: the progress, then the model's EMA update; returns its factor m."""
    from mmssl.models.utils import TrainingProgress
    model.set_progress(TrainingProgress(it, max_iters))
    return model.ema_update()


def build_initialised_model(cfg, scope: str):
    """``cfg.model`` built with ``scope``'s registry (``'mmdet'``, ``'mmseg'``), after the
    config's ``custom_imports``, and its ``init_weights()`` run (pretrained files loaded)."""
    import importlib

    from mmengine.registry import DefaultScope
    from mmengine.utils import import_modules_from_strings
    importlib.import_module(f'{scope}.utils').register_all_modules(init_default_scope=False)
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    with DefaultScope.overwrite_default_scope(scope):
        model = importlib.import_module(f'{scope}.registry').MODELS.build(cfg.model)
        model.init_weights()
    return model


def run_python(*args: str, cwd: str = REPO_ROOT) -> str:
    """stdout of ``python *args`` run in ``cwd``; fails the test with the output's tails."""
    import subprocess
    import sys
    result = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, f'{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}'
    return result.stdout


def scalars_json_rows(work_dir: str) -> list[dict]:
    """The rows of the one ``<timestamp>/vis_data/scalars.json`` of an mmengine run."""
    (path,) = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        return [json.loads(line) for line in f]
