"""The Stanford Cars recipe (target data only, El-Nouby et al. 2021): the SplitMask ViT-B/16
pretrained on the cars' train images (configs/splitmask/*_cars.py) feeds the linear probe
and the fine-tune in configs/benchmarks/classification/stanford_cars/. Cars is not here:
a few JPEGs in its folder layout stand in, and a narrow 12-block ViT stands in for ViT-B
where weights are loaded or a loss is computed."""
import os.path as osp
import re

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.optim import build_optim_wrapper

from mmssl.registry import DATASETS, MODELS
from mmssl.utils.checkpoint_export import extract_backbone_file
from tests._helpers import REPO_ROOT

CARS = osp.join(REPO_ROOT, 'configs', 'benchmarks', 'classification', 'stanford_cars')
LINEAR = osp.join(CARS, 'vit-base-p16_linear-8xb32-coslr-90e_cars.py')
FINETUNE = osp.join(CARS, 'vit-base-p16_ft-8xb32-coslr-100e_cars.py')
PRETRAIN = osp.join(REPO_ROOT, 'configs', 'splitmask',
                    'splitmask_vit-base-p16_16xb128-amp-coslr-300e_cars.py')
NAME = re.compile(r'^vit-base-p16_(?P<kind>linear|ft)-(?P<gpus>\d+)xb(?P<batch>\d+)-coslr-'
                  r'(?P<epochs>\d+)e_cars$')
SMALL = dict(embed_dims=64, num_layers=12, num_heads=2, feedforward_channels=128)
CLASSES = ('AM General Hummer SUV 2000', 'Acura RL Sedan 2012', 'Audi R8 Coupe 2012')


@pytest.fixture(scope='module')
def cars_root(tmp_path_factory):
    """data_root/{train,test}/<class>/*.jpg, 3 classes, 2 photos each of varied sizes."""
    root = tmp_path_factory.mktemp('stanford_cars')
    rng = np.random.default_rng(0)
    for split in ('train', 'test'):
        for c, name in enumerate(CLASSES):
            (root / split / name).mkdir(parents=True)
            for i, shape in enumerate([(240, 360, 3), (300, 280, 3)]):
                cv2.imwrite(str(root / split / name / f'{c:05d}{i}.jpg'),
                            rng.integers(0, 255, shape, np.uint8))
    return str(root)


def _build_model(cfg):
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    return MODELS.build(model_cfg)


@pytest.fixture(scope='module')
def splitmask_backbone(tmp_path_factory):
    """An mmssl checkpoint of the cars SplitMask model (narrow ViT), its backbone file and
    the backbone's state dict."""
    cfg = Config.fromfile(PRETRAIN)
    cfg.model.backbone.arch = SMALL
    cfg.model.neck.embed_dim = SMALL['embed_dims']
    model = _build_model(cfg)
    model.init_weights()
    folder = tmp_path_factory.mktemp('splitmask_cars')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, str(folder / 'epoch_300.pth'))
    extract_backbone_file(str(folder / 'epoch_300.pth'), str(folder / 'backbone.pth'))
    return str(folder / 'backbone.pth'), model.backbone.state_dict()


@pytest.mark.parametrize('path', [LINEAR, FINETUNE], ids=['linear', 'ft'])
def test_config_builds_a_vit_b_classifier_and_its_name_tells_its_numbers(path):
    cfg = Config.fromfile(path)
    match = NAME.match(osp.splitext(osp.basename(path))[0])
    assert match and cfg.default_scope == 'mmssl'
    assert cfg.train_dataloader.batch_size == int(match['batch'])
    assert cfg.train_cfg.max_epochs == int(match['epochs'])
    assert cfg.auto_scale_lr.base_batch_size == int(match['gpus']) * int(match['batch'])
    assert cfg.param_scheduler[-1].type == 'CosineAnnealingLR'
    assert cfg.param_scheduler[-1].end == int(match['epochs'])
    assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook'
    assert cfg.model.backbone.init_cfg == dict(type='Pretrained', checkpoint='',
                                               prefix='backbone.')
    for loader, prefix in (('train_dataloader', 'train'), ('val_dataloader', 'test'),
                           ('test_dataloader', 'test')):
        dataset = cfg[loader].dataset
        assert (dataset.type, dataset.data_root, dataset.data_prefix) == (
            'CustomDataset', 'data/stanford_cars/', prefix)
    model = _build_model(cfg)
    assert type(model).__name__ == 'ImageClassifier'
    assert type(model.backbone).__name__ == 'VisionTransformer'
    assert model.backbone.embed_dims == 768 and len(model.backbone.layers) == 12
    assert model.head.fc.out_features == 196
    if match['kind'] == 'linear':
        assert not any(p.requires_grad for p in model.backbone.parameters())
        assert cfg.optim_wrapper.optimizer.type == 'LARS'
        assert cfg.optim_wrapper.optimizer.weight_decay == 0
    else:
        assert all(p.requires_grad for p in model.backbone.parameters())
        assert cfg.optim_wrapper.constructor == 'LearningRateDecayOptimWrapperConstructor'
        assert cfg.optim_wrapper.optimizer.type == 'AdamW'


@pytest.mark.parametrize('path', [LINEAR, FINETUNE], ids=['linear', 'ft'])
def test_splitmask_backbone_loads_and_a_batch_of_cars_gives_a_loss(path, cars_root,
                                                                   splitmask_backbone):
    """From the cars folders (train and test) through the pipeline, the data preprocessor
    (Mixup/CutMix for the fine-tune) and the classifier whose ViT is the pretrained one."""
    checkpoint, pretrained = splitmask_backbone
    cfg = Config.fromfile(path)
    cfg.model.backbone.arch = SMALL
    cfg.model.backbone.init_cfg.checkpoint = checkpoint
    cfg.model.head.in_channels = SMALL['embed_dims']
    if cfg.model.get('neck'):
        cfg.model.neck.input_features = SMALL['embed_dims']
    model = _build_model(cfg)
    model.init_weights()
    state = model.backbone.state_dict()
    # Everything but the final norm (unused by the fine-tune) and ln2 (the pooled
    # feature's fresh norm) comes from the checkpoint.
    used = set(state) & set(pretrained)
    assert used >= {k for k in pretrained if not k.startswith('ln1.')}
    assert all(torch.equal(state[k], pretrained[k]) for k in used)

    for loader in ('train_dataloader', 'val_dataloader'):
        dataset_cfg = cfg[loader].dataset
        dataset_cfg.data_root = cars_root
        dataset = DATASETS.build(dataset_cfg)
        assert len(dataset) == 6 and dataset.CLASSES == CLASSES
        sample = dataset[0]
        assert tuple(sample['inputs'].shape) == (3, 224, 224)
    train = DATASETS.build(cfg.train_dataloader.dataset)
    batch = default_collate([train[i] for i in range(4)])
    data = model.data_preprocessor(batch, training=True)
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['loss'])
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    trained = {n for n, p in model.named_parameters() if p.requires_grad}
    if path == LINEAR:  # the ViT frozen, the BatchNorm without affine parameters
        assert trained == {'head.fc.weight', 'head.fc.bias'}
    else:  # layer decay 0.65: block i of 12 at 0.65 ** (12 - i)
        names = {id(p): n for n, p in model.named_parameters()}
        lrs = {names[id(g['params'][0])]: g['lr'] for g in optim_wrapper.optimizer.param_groups}
        base = cfg.optim_wrapper.optimizer.lr
        assert lrs['head.fc.weight'] == pytest.approx(base)
        assert lrs['backbone.layers.11.attn.qkv.weight'] == pytest.approx(base * 0.65)
        assert lrs['backbone.layers.0.attn.qkv.weight'] == pytest.approx(base * 0.65 ** 12)
        assert lrs['backbone.patch_embed.projection.weight'] == pytest.approx(base * 0.65 ** 13)


def test_pretraining_knn_reads_the_cars_folders(cars_root):
    """The cars SplitMask config's kNN evaluation: train images vote, test images query."""
    cfg = Config.fromfile(PRETRAIN)
    assert cfg.train_dataloader.dataset.data_root == 'data/stanford_cars/train/'
    knn = cfg.test_dataloader.dataset
    knn.bank.data_root = knn.query.data_root = cars_root
    dataset = DATASETS.build(knn)
    assert len(dataset) == 12 and dataset.metainfo['classes'] == CLASSES
    assert dataset[0]['data_samples'].knn_bank and not dataset[11]['data_samples'].knn_bank
    assert dataset[11]['data_samples'].gt_label.item() == 2
