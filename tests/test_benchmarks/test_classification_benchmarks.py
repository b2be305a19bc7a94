"""The classification benchmarks (configs/benchmarks/classification/, docs/benchmarks.md):
every config builds and says what its name says, the label-subset rule and tool, and the
Fashion-MNIST linear, semi-supervised and kNN benchmarks run through tools/train.py and
tools/test.py from a real mmssl checkpoint and give numbers. (The VOC07 SVM configs have
their own tests: test_svm.py; the Stanford Cars ViT configs: test_stanford_cars_benchmarks.py.)"""
import glob
import json
import logging
import os
import os.path as osp
import re
import uuid

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger

from mmssl.datasets import FashionMNIST
from mmssl.registry import DATASETS, MODELS
from tests._helpers import DEMO_CONFIG, REPO_ROOT
from tools.dataset_converters import make_label_subsets as subsets_tool
from tools.dataset_converters.make_label_subsets import label_subsets, per_class_count

BENCH = osp.join(REPO_ROOT, 'configs', 'benchmarks', 'classification')
CONFIGS = sorted(p for p in glob.glob(osp.join(BENCH, '**', '*.py'), recursive=True)
                 if '_base_' not in p and 'voc07_svm' not in p
                 and 'stanford_cars' not in p)  # ViT configs: test_stanford_cars_benchmarks.py
FMNIST = osp.join(BENCH, 'fashion_mnist')
LINEAR_FMNIST = osp.join(FMNIST, 'resnet18_linear-1xb256-coslr-3e_fmnist.py')
SEMI_FMNIST = {pct: osp.join(FMNIST, f'resnet18_head10_1xb64-steplr1e-2-20e_fmnist-{pct}pct.py')
               for pct in (1, 10)}
KNN_FMNIST = osp.join(BENCH, 'knn_fmnist.py')
IN1K = osp.join(BENCH, 'imagenet')
LINEAR = re.compile(r'^(?P<backbone>[a-z0-9-]+)_linear-(?P<gpus>\d+)xb(?P<batch>\d+)-'
                    r'(?P<schedule>steplr|coslr)-(?P<epochs>\d+)e_(?P<data>in1k|fmnist)$')
SEMI = re.compile(r'^(?P<backbone>[a-z0-9-]+)_head(?P<mult>\d+)_(?P<gpus>\d+)xb(?P<batch>\d+)-'
                  r'steplr(?P<lr>[0-9.e-]+)-(?P<epochs>\d+)e_(?P<data>in1k|fmnist)-'
                  r'(?P<pct>\d+)pct$')
SCHEDULERS = dict(steplr='MultiStepLR', coslr='CosineAnnealingLR')


def _ids(paths):
    return [osp.relpath(p, BENCH) for p in paths]


def _name(path):
    return osp.splitext(osp.basename(path))[0]


def test_the_benchmarks_exist():
    assert {osp.relpath(p, BENCH) for p in CONFIGS} >= {
        'imagenet/resnet50_linear-8xb32-steplr-100e_in1k.py',
        'imagenet/resnet50_linear-8xb32-coslr-100e_in1k.py',
        'imagenet/resnet50_linear-8xb512-coslr-90e_in1k.py',
        'imagenet/imagenet_1percent/resnet50_head100_4xb64-steplr1e-2-20e_in1k-1pct.py',
        'imagenet/imagenet_10percent/resnet50_head100_4xb64-steplr1e-2-20e_in1k-10pct.py',
        'knn_imagenet.py',
        'fashion_mnist/resnet18_linear-1xb256-coslr-3e_fmnist.py',
        'fashion_mnist/resnet18_head10_1xb64-steplr1e-2-20e_fmnist-1pct.py',
        'fashion_mnist/resnet18_head10_1xb64-steplr1e-2-20e_fmnist-10pct.py',
        'knn_fmnist.py'}


def _plain(value):
    """``value`` without the ``_scope_`` keys that mmpretrain:: bases add to their dicts."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != '_scope_'}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _build_model(cfg):
    model_cfg = cfg.model.copy()
    if cfg.get('data_preprocessor'):  # as mmengine's Runner does
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    return MODELS.build(model_cfg)


@pytest.mark.parametrize('path', CONFIGS, ids=_ids(CONFIGS))
def test_config_builds_and_its_name_tells_its_numbers(path, tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmssl'
    model = _build_model(cfg)
    name = _name(path)
    match = LINEAR.match(name) or SEMI.match(name)
    if name.startswith('knn_'):
        assert type(model).__name__ == 'SimCLR' and model.neck is None and model.head is None
        assert _plain(cfg.test_evaluator) == dict(type='KNNAccuracy', k=20, temperature=0.07)
        assert cfg.test_dataloader.dataset.type == 'KNNDataset'
    else:
        assert match, f'{name}: not a {{backbone}}_linear-... or {{backbone}}_headN_... name'
        assert type(model).__name__ == 'ImageClassifier'
        assert cfg.train_dataloader.batch_size == int(match['batch'])
        assert cfg.train_cfg.max_epochs == int(match['epochs'])
        assert cfg.auto_scale_lr.base_batch_size == int(match['gpus']) * int(match['batch'])
        assert _plain(cfg.model.backbone.init_cfg) == dict(
            type='Pretrained', checkpoint='', prefix='backbone.')
        assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook'
        schedulers = [s.type for s in cfg.param_scheduler]
        if LINEAR.match(name):
            assert schedulers == [SCHEDULERS[match['schedule']]]
            if cfg.model.backbone.type == 'VisionTransformer':  # every block frozen
                assert cfg.model.backbone.frozen_stages == cfg.model.backbone.arch.num_layers
            else:
                assert cfg.model.backbone.frozen_stages == 4 and cfg.model.backbone.norm_eval
            assert cfg.optim_wrapper.optimizer.weight_decay == 0
        else:  # semi-supervised: everything trains; the head at lr_mult x the backbone's lr
            assert schedulers == ['MultiStepLR']
            assert cfg.model.backbone.get('frozen_stages', -1) == -1
            assert not cfg.model.backbone.get('norm_eval', False)
            assert cfg.optim_wrapper.optimizer.lr == float(match['lr'])
            assert _plain(cfg.optim_wrapper.paramwise_cfg.custom_keys) == {
                'head': dict(lr_mult=int(match['mult']))}
            data = cfg.train_dataloader.dataset
            subset = data.get('subset_file') or data.get('ann_file')
            assert subset.endswith(f'{match["pct"]}percent.txt')
    if 'fashion_mnist' not in path and 'fmnist' not in name:
        return  # ImageNet: the data is not here; the model built, the settings are checked
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key) is None:
            continue
        dataset_cfg = cfg[key].dataset
        if dataset_cfg.get('subset_file'):
            subsets_tool.main(['fashion-mnist', '--out-dir', str(tmp_path)])
            dataset_cfg.subset_file = str(tmp_path / osp.basename(dataset_cfg.subset_file))
        dataset = DATASETS.build(dataset_cfg)
        sample = dataset[0]
        assert tuple(sample['inputs'].shape) == (3, 28, 28)
        assert 'gt_label' in sample['data_samples']
        if key == 'train_dataloader' and SEMI.match(name):
            assert len(dataset) == 600 * int(SEMI.match(name)['pct'])


def test_imagenet_protocols():
    cfg = Config.fromfile(osp.join(IN1K, 'resnet50_linear-8xb32-steplr-100e_in1k.py'))
    # MoCo: SGD lr 30, momentum 0.9, wd 0, 100 epochs, x0.1 at 60 and 80, batch 8 x 32
    assert _plain(cfg.optim_wrapper.optimizer) == dict(type='SGD', lr=30., momentum=0.9,
                                                       weight_decay=0.)
    assert _plain(cfg.param_scheduler) == [
        dict(type='MultiStepLR', by_epoch=True, milestones=[60, 80], gamma=0.1)]
    assert cfg.model.head.in_channels == 2048 and cfg.model.head.num_classes == 1000
    assert _plain(cfg.model.neck) == dict(type='GlobalAveragePooling')
    train, val = cfg.train_dataloader.dataset, cfg.val_dataloader.dataset
    assert (train.type, train.data_root, train.split) == ('ImageNet', 'data/imagenet', 'train')
    assert (val.data_root, val.split) == ('data/imagenet', 'val')
    assert [t.type for t in train.pipeline] == ['LoadImageFromFile', 'RandomResizedCrop',
                                                'RandomFlip', 'PackInputs']
    assert train.pipeline[1].scale == 224
    assert [(t.type, t.get('scale'), t.get('crop_size')) for t in val.pipeline[1:3]] == [
        ('ResizeEdge', 256, None), ('CenterCrop', None, 224)]

    cos = Config.fromfile(osp.join(IN1K, 'resnet50_linear-8xb32-coslr-100e_in1k.py'))
    assert (cos.optim_wrapper.optimizer.lr, cos.optim_wrapper.optimizer.weight_decay) == (30, 0)
    assert (cos.param_scheduler[0].type, cos.param_scheduler[0].T_max) == (
        'CosineAnnealingLR', 100)

    simclr = Config.fromfile(osp.join(IN1K, 'resnet50_linear-8xb512-coslr-90e_in1k.py'))
    # SimCLR: LARS at 0.1 x 4096 / 256, wd 0, cosine 90 epochs, BN before the classifier
    assert _plain(simclr.optim_wrapper.optimizer) == dict(
        type='LARS', lr=1.6, momentum=0.9, weight_decay=0.)
    assert simclr.param_scheduler[0].T_max == 90
    model = _build_model(simclr)
    bn = model.neck[1].bn
    assert isinstance(bn, torch.nn.BatchNorm1d) and not bn.affine and bn.num_features == 2048

    for pct in (1, 10):
        semi = Config.fromfile(osp.join(
            IN1K, f'imagenet_{pct}percent',
            f'resnet50_head100_4xb64-steplr1e-2-20e_in1k-{pct}pct.py'))
        data = semi.train_dataloader.dataset
        assert (data.data_root, data.split, data.ann_file) == (
            'data/imagenet', 'train', f'meta/train_{pct}percent.txt')
        assert _plain(semi.optim_wrapper.optimizer) == dict(
            type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4)
        assert semi.param_scheduler[0].milestones == [12, 16]
        assert _plain(semi.model.backbone.norm_cfg) == dict(type='SyncBN')


def test_an_mmssl_imagenet_checkpoint_fits_the_classifier_backbone():
    """The MoCo v2 ResNet-50's backbone.* entries are the classifier backbone's state."""
    pre = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py'))
    state = {k[len('backbone.'):]: v.shape for k, v in _build_model(pre).state_dict().items()
             if k.startswith('backbone.')}
    cfg = Config.fromfile(osp.join(IN1K, 'resnet50_linear-8xb32-steplr-100e_in1k.py'))
    backbone = _build_model(cfg).backbone.state_dict()
    assert {k: v.shape for k, v in backbone.items()} == state


# ---------------------------------------------------------------- the label-subset rule


def _toy_samples(sizes, seed=0):
    """(key, label) pairs, ``sizes[c]`` of class c, shuffled."""
    samples = [(f'c{c}/img{i:04d}.JPEG', c) for c, n in enumerate(sizes) for i in range(n)]
    order = np.random.default_rng(seed).permutation(len(samples))
    return [samples[i] for i in order]


def test_subsets_are_class_balanced_seeded_nested_and_sorted():
    sizes = [1300, 732, 1000, 50, 149]
    samples = _toy_samples(sizes)
    got = label_subsets(samples, [1, 10], seed=0)
    for percent in (1, 10):
        chosen = got[percent]
        counts = np.bincount([label for _, label in chosen], minlength=len(sizes))
        assert counts.tolist() == [per_class_count(percent, n) for n in sizes]
        assert chosen == sorted(chosen) and len(set(chosen)) == len(chosen)
        assert set(chosen) <= set(samples)
    assert [per_class_count(1, n) for n in sizes] == [13, 7, 10, 1, 1]  # 0.5 rounds up
    assert [per_class_count(10, n) for n in sizes] == [130, 73, 100, 5, 15]
    assert per_class_count(10, 1305) == 131 and per_class_count(0.5, 300) == 2  # halves up
    assert set(got[1]) <= set(got[10])  # one permutation per class: 1 % inside 10 %
    # the same seed gives the same files whatever the input order; another seed differs
    assert label_subsets(_toy_samples(sizes, seed=5), [1, 10], seed=0) == got
    other = label_subsets(samples, [1, 10], seed=1)
    assert other[1] != got[1] and other[10] != got[10]
    with pytest.raises(ValueError, match=r'in \(0, 100\]'):
        label_subsets(samples, [0])
    with pytest.raises(ValueError, match='repeat a key'):
        label_subsets(samples + samples[:1], [1])


def test_the_tool_writes_fashion_mnist_subset_files(tmp_path, fashion_mnist_root):
    out = tmp_path / 'fmnist'
    paths = subsets_tool.main(['fashion-mnist', '--out-dir', str(out)])
    assert paths == {1: str(out / '1percent.txt'), 10: str(out / '10percent.txt')}
    assert sorted(os.listdir(out)) == ['10percent.txt', '1percent.txt']  # no temporary left
    labels = FashionMNIST(split='train').get_gt_labels()
    for percent, per_class in ((1, 60), (10, 600)):
        rows = np.loadtxt(paths[percent], dtype=int)
        assert rows[:, 0].tolist() == sorted(rows[:, 0])
        assert (labels[rows[:, 0]] == rows[:, 1]).all()
        assert np.bincount(rows[:, 1]).tolist() == [per_class] * 10
    first = (out / '1percent.txt').read_text()
    subsets_tool.main(['fashion-mnist', '--out-dir', str(out), '--seed', '1'])
    assert (out / '1percent.txt').read_text() != first


def test_the_tool_reads_imagenet_folders_and_lists(tmp_path):
    root = tmp_path / 'imagenet'
    for wnid, n in (('n02', 150), ('n01', 20)):
        (root / 'train' / wnid).mkdir(parents=True)
        for i in range(n):
            (root / 'train' / wnid / f'{wnid}_{i}.JPEG').touch()
    out = tmp_path / 'meta'
    paths = subsets_tool.main(['imagenet', '--data-root', str(root), '--out-dir', str(out)])
    lines = (out / 'train_10percent.txt').read_text().splitlines()
    assert paths[10] == str(out / 'train_10percent.txt')
    assert lines[0].startswith('n01/n01_') and lines[0].endswith(' 0')  # n01 is class 0
    assert [line.split()[1] for line in lines].count('1') == 15 and len(lines) == 17
    # the same images as a train list (mmpretrain's meta/train.txt) give the same files
    (root / 'meta').mkdir()
    samples = subsets_tool.imagenet_samples(str(root))
    (root / 'meta' / 'train.txt').write_text(''.join(f'{p} {c}\n' for p, c in samples[::-1]))
    out2 = tmp_path / 'meta2'
    subsets_tool.main(['imagenet', '--data-root', str(root), '--out-dir', str(out2)])
    assert (out2 / 'train_10percent.txt').read_text() == '\n'.join(lines) + '\n'
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        subsets_tool.main(['imagenet', '--data-root', str(root), '--ann-file', 'nope.txt'])


def test_fashion_mnist_subset_files_are_checked(tmp_path, fashion_mnist_root):
    missing = tmp_path / 'subsets' / '1percent.txt'
    with pytest.raises(FileNotFoundError,
                       match=rf'{re.escape(str(missing))} not found; write it with '
                             r'`python tools/dataset_converters/make_label_subsets.py'):
        FashionMNIST(split='train', subset_file=str(missing))
    bad = tmp_path / 'bad.txt'
    bad.write_text('0 9\n1 3\n')  # image 1 is a T-shirt (0)
    with pytest.raises(ValueError, match=r'bad.txt:2: image 1 .* has label 0, the file says 3'):
        FashionMNIST(split='train', subset_file=str(bad))
    bad.write_text('0 9\n0 9\n')
    with pytest.raises(ValueError, match=r'bad.txt:2: index 0 .* repeated'):
        FashionMNIST(split='train', subset_file=str(bad))
    good = tmp_path / 'good.txt'
    good.write_text('2 0\n0 9\n')
    dataset = FashionMNIST(split='train', subset_file=str(good))
    assert len(dataset) == 2 and dataset.get_gt_labels().tolist() == [0, 9]
    full = FashionMNIST(split='train', indices=3)
    assert np.array_equal(dataset.get_data_info(0)['img'], full.get_data_info(2)['img'])


# ------------------------------------------- Fashion-MNIST runs from an mmssl checkpoint


@pytest.fixture(scope='module')
def mmssl_checkpoint(tmp_path_factory):
    """The MoCo v2 demo model as an mmssl checkpoint, BN statistics moved off their init."""
    from mmssl.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    model = _build_model(Config.fromfile(DEMO_CONFIG))
    model.init_weights()
    with torch.no_grad():  # running statistics that are not the initial 0 / 1
        model.backbone.train()
        model.backbone(torch.rand(16, 3, 28, 28) * 3)
    path = str(tmp_path_factory.mktemp('ckpt') / 'mocov2_demo.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path


@pytest.fixture(scope='module')
def subset_dir(tmp_path_factory, fashion_mnist_root):
    out = tmp_path_factory.mktemp('subsets')
    subsets_tool.main(['fashion-mnist', '--out-dir', str(out)])
    return out


def _train(config, work_dir, *options):
    from tools.train import main
    main([config, '--work-dir', str(work_dir), '--cfg-options',
          f'experiment_name=test-{uuid.uuid4().hex[:12]}', 'log_level=WARNING',
          'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
          'val_dataloader.dataset.indices=200', 'default_hooks.checkpoint.interval=1',
          *options])
    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)
    path, = glob.glob(osp.join(str(work_dir), '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        rows = [json.loads(line) for line in f]
    top1 = [row['accuracy/top1'] for row in rows if 'accuracy/top1' in row]
    assert len(top1) == 1 and 0 <= top1[0] <= 100
    return top1[0], torch.load(osp.join(str(work_dir), 'epoch_1.pth'), map_location='cpu',
                               weights_only=False)['state_dict']


def _backbone(state):
    return {k: v for k, v in state.items() if k.startswith('backbone.')}


def test_linear_probe_trains_the_head_of_a_frozen_backbone(tmp_path, mmssl_checkpoint):
    top1, state = _train(LINEAR_FMNIST, tmp_path, 'train_dataloader.dataset.indices=512',
                         f'model.backbone.init_cfg.checkpoint={mmssl_checkpoint}')
    pre = _backbone(torch.load(mmssl_checkpoint, weights_only=False)['state_dict'])
    got = _backbone(state)
    assert got.keys() == pre.keys() and any('running_var' in k for k in got)
    for key, value in got.items():  # weights and BN running statistics as loaded
        assert torch.equal(value, pre[key].to(value.dtype)), key
    assert int(state['neck.1.bn.num_batches_tracked']) == 2  # the classifier's BN did learn
    assert state['head.fc.weight'].shape == (10, 128)


@pytest.mark.parametrize('pct', [1, 10])
def test_semi_supervised_fine_tunes_everything(pct, tmp_path, mmssl_checkpoint, subset_dir):
    top1, state = _train(SEMI_FMNIST[pct], tmp_path,
                         f'train_dataloader.dataset.subset_file={subset_dir}/{pct}percent.txt',
                         'train_dataloader.dataset.indices=128',
                         f'model.backbone.init_cfg.checkpoint={mmssl_checkpoint}')
    pre = _backbone(torch.load(mmssl_checkpoint, weights_only=False)['state_dict'])
    got = _backbone(state)
    assert not torch.equal(got['backbone.conv1.weight'], pre['backbone.conv1.weight'])
    assert not torch.equal(got['backbone.layer4.1.bn2.running_mean'],
                           pre['backbone.layer4.1.bn2.running_mean'])


def test_knn_benchmark_runs_through_tools_test(tmp_path, mmssl_checkpoint):
    from tools.test import main
    metrics = main([KNN_FMNIST, mmssl_checkpoint, '--work-dir', str(tmp_path), '--out',
                    str(tmp_path / 'knn.json'), '--cfg-options',
                    f'experiment_name=test-{uuid.uuid4().hex[:12]}', 'log_level=WARNING',
                    'test_dataloader.num_workers=0', 'test_dataloader.dataset.bank.indices=300',
                    'test_dataloader.dataset.query.indices=100'])
    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)
    assert 0 <= metrics['knn/top1'] <= 100
    with open(tmp_path / 'knn.json') as f:
        assert json.load(f)['knn/top1'] == metrics['knn/top1']
