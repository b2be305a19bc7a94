"""Every config under configs/ and projects/ builds, and its name tells its numbers."""
import glob
import os.path as osp
import re

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import FUNCTIONS, init_default_scope

from mmssl.registry import DATASETS, HOOKS, MODELS
from tests._helpers import REPO_ROOT

CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)
    + glob.glob(osp.join(REPO_ROOT, 'projects', '*', 'configs', '*.py'))
    if '_base_' not in p and 'benchmarks' not in p  # benchmarks: tests/test_benchmarks
    and f'configs{osp.sep}zoo{osp.sep}' not in p)  # the zoo's row lists: test_train_zoo
NAME = re.compile(r'^(?P<algo>[a-z0-9]+)_(?P<backbone>[a-z0-9-]+)_(?P<gpus>\d+)xb(?P<batch>\d+)'
                  r'(?P<amp>-amp)?-(?P<schedule>[a-z0-9]+)-(?P<epochs>\d+)e_(?P<data>[a-z0-9-]+)$')


def _ids(paths):
    return [osp.relpath(p, REPO_ROOT) for p in paths]


def test_the_paper_configs_exist():
    names = {osp.basename(p) for p in CONFIGS}
    papers = {
        'mocov1_resnet50_8xb32-steplr-200e_in1k.py', 'mocov2_resnet50_8xb32-coslr-200e_in1k.py',
        'mocov1_resnet50-membank_8xb32-steplr-200e_in1k.py',
        'mocov1_resnet50-endtoend_8xb32-steplr-200e_in1k.py',
        'simclr_resnet50_16xb256-coslr-200e_in1k.py', 'byol_resnet50_16xb256-coslr-200e_in1k.py',
        'simsiam_resnet50_8xb64-coslr-100e_in1k.py',
        'barlowtwins_resnet50_8xb256-coslr-1000e_in1k.py',
        'mocov3_resnet50_8xb512-amp-coslr-100e_in1k.py',
        'mocov3_vit-small-p16_16xb256-amp-coslr-300e_in1k.py',
        'swav_resnet50-mcrop2x224-6x96_8xb32-coslr-200e_in1k.py',
        'densecl_resnet50_8xb32-coslr-200e_in1k.py',
        'dino_vit-small-p16-mcrop2x224-10x96_8xb64-coslr-100e_in1k.py'}
    assert papers <= names, papers - names
    # every algorithm has a Fashion-MNIST demo that runs on a CPU
    demos = {name.split('_')[0] for name in names if name.endswith('_fmnist.py')}
    assert {'mocov1', 'mocov2', 'simclr', 'byol', 'simsiam', 'barlowtwins', 'mocov3', 'swav',
            'densecl', 'dino'} <= demos


@pytest.mark.parametrize('path', CONFIGS, ids=_ids(CONFIGS))
def test_name_matches_content(path):
    match = NAME.match(osp.splitext(osp.basename(path))[0])
    assert match, f'{path}: name does not follow {{algo}}_{{backbone}}_{{gpus}}xb{{batch}}-...'
    cfg = Config.fromfile(path)
    assert cfg.train_dataloader.batch_size == int(match['batch'])
    assert cfg.train_cfg.max_epochs == int(match['epochs'])
    assert cfg.auto_scale_lr.base_batch_size == int(match['gpus']) * int(match['batch'])
    assert (cfg.optim_wrapper.get('type') in ('AmpOptimWrapper', 'AutocastOptimWrapper')
            ) == bool(match['amp'])
    assert match['algo'].startswith(cfg.model.type.lower())  # mocov2 -> MoCo
    assert cfg.default_scope == 'mmssl'
    assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook'
    # The training progress reaches every model through one default hook; no config lists
    # it, or a schedule, in custom_hooks.
    assert cfg.default_hooks.momentum_update.type == 'MomentumUpdateHook'
    assert not any('Momentum' in hook['type'] or 'Schedule' in hook['type']
                   or 'Freeze' in hook['type'] or 'Warmup' in hook['type']
                   for hook in cfg.get('custom_hooks', []))


def _jpeg_folder(root):
    rng = np.random.default_rng(0)
    for i, shape in enumerate([(300, 260, 3), (240, 320, 3)]):
        cv2.imwrite(str(root / f'img{i}.jpg'), rng.integers(0, 255, shape, np.uint8))
    return str(root)


def _frames_and_masks(root):
    """Two real JPEG frames and their motion masks, as mine_motion_masks.py lays them out."""
    rng = np.random.default_rng(0)
    (root / 'frames' / 'clip').mkdir(parents=True)
    (root / 'masks' / 'clip').mkdir(parents=True)
    for t in (0, 5):
        cv2.imwrite(str(root / 'frames' / 'clip' / f'{t:06d}.jpg'),
                    rng.integers(0, 255, (240, 320, 3), np.uint8))
        mask = np.zeros((240, 320), np.uint8)
        mask[60:180, 100:220] = 255
        cv2.imwrite(str(root / 'masks' / 'clip' / f'{t:06d}.png'), mask)
    return str(root / 'frames'), str(root / 'masks')


def _stand_in_data(dataset_cfg, root):
    """Users bring the data: stand in tiny real files for every dataset of the config
    (ImageNet folders, mined video frames and masks, a transitive-invariance graph)."""
    for i, inner in enumerate(dataset_cfg.get('datasets', [])):  # ConcatDataset
        _stand_in_data(inner, root / f'part{i}')
    if 'dataset' in dataset_cfg:  # RepeatDataset
        _stand_in_data(dataset_cfg.dataset, root)
    root.mkdir(parents=True, exist_ok=True)
    if dataset_cfg.type == 'ImageFolder' and dataset_cfg.get('mask_root'):
        dataset_cfg.data_root, dataset_cfg.mask_root = _frames_and_masks(root)
    elif dataset_cfg.type == 'ImageFolder':
        dataset_cfg.data_root = _jpeg_folder(root)
    if dataset_cfg.type == 'TransitiveTripletDataset':
        dataset_cfg.graph_file = _patch_graph(root)
        dataset_cfg.data_root = None


def _patch_graph(root):
    """A tiny transitive-invariance graph: two components of two random 64-px crops."""
    from mmssl.mining.graph import PatchGraph
    rng = np.random.default_rng(0)
    graph = PatchGraph()
    graph.add([dict(source='', frame=-1, box=[0, 0, 64, 64], track=-1)] * 4,
              [(0, 1), (2, 3)], 'inter')
    path = str(root / 'graph.json')
    graph.write_crops([rng.integers(0, 255, (64, 64, 3), np.uint8) for _ in range(4)],
                      str(root / 'patches'), path)
    graph.save(path)
    return path


@pytest.mark.parametrize('path', CONFIGS, ids=_ids(CONFIGS))
def test_model_hooks_and_dataset_build(path, tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(path)
    init_default_scope(cfg.default_scope)
    if cfg.get('custom_imports'):
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**cfg.custom_imports)
    model_cfg = cfg.model.copy()
    if cfg.get('data_preprocessor'):  # as mmengine's Runner does
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    assert model.backbone is not None and model.head is not None
    for hook in cfg.get('custom_hooks', []):
        assert HOOKS.get(hook['type']) is not None, hook['type']

    dataset_cfg = cfg.train_dataloader.dataset
    _stand_in_data(dataset_cfg, tmp_path / 'data')
    dataset = DATASETS.build(dataset_cfg)
    # Two samples through the collate function and the data preprocessor, as in training:
    # the views the algorithm receives (made by the pipeline or on the device).
    collate_type = cfg.train_dataloader.get('collate_fn', {}).get('type', 'default_collate')
    collate = FUNCTIONS.get(collate_type)
    batch = collate([dataset[0], dataset[len(dataset) - 1]])  # both parts of a concatenation
    views = model.data_preprocessor(batch, training=True)['inputs']
    assert isinstance(views, list) and len(views) == model.data_preprocessor.num_views
    assert all(view.ndim == 4 and view.shape[:2] == (2, 3) for view in views)
    # One size for all views, or (multi-crop: model.num_crops = (global, local)) the global
    # views at one size, then the local views at one smaller size, each at its own size.
    sizes = [tuple(view.shape[2:]) for view in views]
    num_global = getattr(model, 'num_crops', (len(views), 0))[0]
    assert len(set(sizes[:num_global])) == 1 and len(set(sizes[num_global:])) <= 1
    assert all(local < sizes[0] for local in sizes[num_global:])


def test_the_shared_trunk_baseline_differs_from_the_lasso_config_only_by_the_lasso():
    """Doersch & Zisserman compare the lasso with a plain shared trunk: same tasks, views,
    heads and schedule, every head on the last block, no L1 penalty."""
    folder = osp.join(REPO_ROOT, 'configs', 'multitasklasso')
    lasso = Config.fromfile(osp.join(folder, 'multitasklasso_resnet50_8xb32-steplr-70e_in1k.py'))
    plain = Config.fromfile(osp.join(
        folder, 'multitasklasso_resnet50-sharedtrunk_8xb32-steplr-70e_in1k.py'))
    assert plain.train_pipeline == lasso.train_pipeline
    assert plain.model.tasks == lasso.model.tasks and plain.param_scheduler == lasso.param_scheduler
    assert plain.model.backbone.out_indices == (3, ) and plain.model.l1_weight == 0.0
    init_default_scope('mmssl')
    model = MODELS.build(plain.model)
    assert 'neck.alpha' not in dict(model.named_parameters())
    assert model.neck.alpha.tolist() == [[1.0]] * len(plain.model.tasks)
