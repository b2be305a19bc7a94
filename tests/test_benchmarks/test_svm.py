"""The VOC07 SVM benchmark: AP, the per-class SVMs with their cost sweep, the VOC07
classification dataset and tools/benchmark/svm_voc07.py (mmssl/evaluation/functional/svm.py,
mmssl/datasets/voc07_cls.py)."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmssl.datasets import VOC07Classification
from mmssl.evaluation.functional import (average_precision, one_vs_rest_labels,
                                         svm_classification)
from mmssl.registry import MODELS
from tests._helpers import DEMO_CONFIG, REPO_ROOT, write_config
from tools.benchmark.svm_voc07 import main as svm_voc07

FMNIST_SVM = osp.join(REPO_ROOT, 'configs/benchmarks/classification/voc07_svm/'
                      'resnet18-cifar-w16_svm-fmnist.py')
VOC_SVM = osp.join(REPO_ROOT, 'configs/benchmarks/classification/voc07_svm/'
                   'resnet50_svm-voc07.py')


def blobs(num_per_class: int, num_classes: int = 3, dim: int = 16, seed: int = 0):
    """Linearly separable classes: Gaussian blobs (std 0.3) around far-apart centres."""
    rng = np.random.default_rng(seed)
    centres = np.eye(num_classes, dim) * 5 + 1
    labels = np.repeat(np.arange(num_classes), num_per_class)
    feats = centres[labels] + 0.3 * rng.standard_normal((len(labels), dim))
    order = rng.permutation(len(labels))
    return feats[order], labels[order]


def test_ap_matches_a_hand_computed_ranking():
    # ranked: + - + - +  -> precision 1, 1/2, 2/3, 2/4, 3/5 at recall 1/3, 1/3, 2/3, 2/3, 1
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    labels = np.array([1, -1, 1, -1, 1])
    # VOC07 11-point: recall >= 0..0.3 -> 1; 0.4..0.6 -> 2/3; 0.7..1.0 -> 3/5
    assert average_precision(scores, labels, '11point') == pytest.approx(
        (4 * 1 + 3 * 2 / 3 + 4 * 3 / 5) / 11)
    # area under the interpolated curve: 1/3 * (1 + 2/3 + 3/5)
    assert average_precision(scores, labels, 'area') == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)
    assert average_precision(scores, -labels, 'area') < 0.6  # the reverse ranking
    assert average_precision(np.arange(4.0), np.array([-1, -1, 1, 1])) == 1.0
    with pytest.raises(ValueError, match='no positive'):
        average_precision(scores, -np.ones(5, int))


def test_ap_ignores_difficult_images():
    scores = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5])
    labels = np.array([1, -1, 1, -1, 1, 0])
    for mode in ('area', '11point'):
        ref = average_precision(scores[1:5], labels[1:5], mode)
        # a difficult image ranked first or last changes nothing
        assert average_precision(scores, np.array([0, -1, 1, -1, 1, 0]), mode) == ref
        assert average_precision(scores[1:], labels[1:], mode) == ref


def test_separable_classes_give_map_100_and_a_cost_from_the_sweep():
    train, train_y = blobs(30)
    test, test_y = blobs(20, seed=1)
    costs = [0.01, 0.1, 1.0]
    res = svm_classification(train, train_y, test, test_y, costs=costs,
                             class_names=['a', 'b', 'c'])
    assert res['mAP'] == 100.0 and res['mAP_11point'] == 100.0  # in percent: AP 1.0
    assert res['ap'] == {'a': 100.0, 'b': 100.0, 'c': 100.0}
    for name in 'abc':  # each class keeps the cost of its best cross-validation AP
        assert res['chosen_cost'][name] in costs
        cv = res['cv_ap'][name]
        assert cv[str(res['chosen_cost'][name])] == max(cv.values())
    assert set(res['mAP_per_cost']) == {'0.01', '0.1', '1.0'}
    assert res['num_train'] == 90 and res['num_test'] == 60


def test_shuffled_labels_give_map_near_chance():
    train, train_y = blobs(60, num_classes=4, seed=2)
    test, test_y = blobs(60, num_classes=4, seed=3)
    rng = np.random.default_rng(0)
    res = svm_classification(train, rng.permutation(train_y), test, rng.permutation(test_y),
                             costs=[0.1, 1.0])
    prevalence = 100 / 4  # each class is a quarter of the test images
    assert abs(res['mAP'] - prevalence) < 7, res['ap']
    assert res['mAP'] < 40


def test_difficult_labels_are_negatives_in_training_and_ignored_in_test():
    train, y = blobs(20, seed=4)
    test, ty = blobs(20, seed=5)
    train_t, test_t = one_vs_rest_labels(y, 3), one_vs_rest_labels(ty, 3)
    assert train_t.shape == (60, 3) and set(np.unique(train_t)) == {-1, 1}
    rng = np.random.default_rng(1)
    test_t[rng.choice(60, 5, replace=False), 0] = 0  # difficult test images of class 0
    scrambled = test.copy()
    scrambled[test_t[:, 0] == 0] *= -1  # what the SVM says about them must not matter
    kwargs = dict(costs=[0.1], folds=3)
    ref = svm_classification(train, train_t, test, test_t, **kwargs)
    assert svm_classification(train, train_t, scrambled, test_t, **kwargs)['ap']['0'] == \
        ref['ap']['0']
    # training: a difficult (0) label is a negative, as in the protocol
    difficult = train_t.copy()
    difficult[train_t == -1] = np.where(rng.random((train_t == -1).sum()) < 0.3, 0, -1)
    assert svm_classification(train, difficult, test, test_t, **kwargs) == ref


def test_bad_inputs_name_the_problem():
    train, y = blobs(2)
    with pytest.raises(ValueError, match='cross-validation needs at least 3'):
        svm_classification(train, y, train, y, costs=[1.0])
    train, y = blobs(10)
    with pytest.raises(ValueError, match='no positive test image'):
        svm_classification(train, one_vs_rest_labels(y), train[y != 2],
                           one_vs_rest_labels(y[y != 2], 3), costs=[1.0])


def test_classes_swept_in_parallel_give_the_serial_result():
    rng = np.random.default_rng(6)  # noisy features: each class has its own AP and cost
    train, test = rng.standard_normal((80, 8)), rng.standard_normal((40, 8))
    train_y, test_y = np.arange(80) % 4, np.arange(40) % 4
    train[:, :4] += 0.8 * np.eye(4)[train_y]
    test[:, :4] += 0.8 * np.eye(4)[test_y]
    serial = svm_classification(train, train_y, test, test_y, costs=[0.01, 1.0])
    assert len(set(serial['ap'].values())) == 4  # a class swap would show
    assert svm_classification(train, train_y, test, test_y, costs=[0.01, 1.0],
                              workers=2) == serial


@pytest.fixture(scope='module')
def demo_checkpoint(tmp_path_factory) -> str:
    """A real mmssl checkpoint: the MoCo v2 demo model at its initial weights."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmssl')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(DEMO_CONFIG).model)
    path = str(tmp_path_factory.mktemp('ckpt') / 'demo.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path


def test_the_tool_gives_a_map_per_stage_on_fashion_mnist(tmp_path, demo_checkpoint,
                                                         fashion_mnist_root, capsys):
    out = tmp_path / 'svm.json'
    summary = svm_voc07([FMNIST_SVM, demo_checkpoint, '--train-images', '80',
                         '--test-images', '40', '--costs', '0.1', '1', '--out', str(out)])
    assert summary['num_train'] == 80 and summary['num_test'] == 40
    stages = summary['stages']
    assert list(stages) == ['res2', 'res3', 'res4', 'res5']
    for res in stages.values():
        assert 0 < res['mAP'] <= 100 and set(res['mAP_per_cost']) == {'0.1', '1.0'}
        assert len(res['ap']) == 10 and 'Trouser' in res['ap']
    # pool_dim 512: res2 16 x 6 x 6 ... res5 128 x 2 x 2
    assert [res['dims'] for res in stages.values()] == [576, 512, 576, 512]
    assert json.loads(out.read_text())['stages']['res5']['mAP'] == stages['res5']['mAP']
    assert '| res5 | 512 |' in capsys.readouterr().out
    # random initialisation: the same run from 'none'
    rand = svm_voc07([FMNIST_SVM, 'none', '--train-images', '80', '--test-images', '40',
                      '--costs', '1', '--stages', 'res5', '--out', str(tmp_path / 'r.json')])
    assert list(rand['stages']) == ['res5'] and rand['checkpoint'] == 'none'


def fake_voc(root, num_images: int, split: str, seed: int):
    """A VOC2007 tree: JPEGs and ImageSets/Main/<cls>_<split>.txt for the 20 classes."""
    rng = np.random.default_rng(seed)
    (root / 'JPEGImages').mkdir(parents=True, exist_ok=True)
    (root / 'ImageSets' / 'Main').mkdir(parents=True, exist_ok=True)
    ids = [f'{seed:02d}{i:04d}' for i in range(num_images)]
    labels = np.full((num_images, 20), -1, np.int8)
    for i, img in enumerate(ids):
        size = (int(rng.integers(40, 60)), int(rng.integers(40, 60)), 3)
        cv2.imwrite(str(root / 'JPEGImages' / f'{img}.jpg'),
                    rng.integers(0, 256, size, dtype=np.uint8))
        labels[i, [c for c in range(20) if (i + c) % 5 == 0]] = 1
    labels[rng.random(labels.shape) < 0.05] = 0  # some difficult ones
    for c, cls in enumerate(VOC07Classification.METAINFO['classes']):
        lines = [f'{img} {labels[i, c]:2d}' for i, img in reversed(list(enumerate(ids)))]
        (root / 'ImageSets' / 'Main' / f'{cls}_{split}.txt').write_text('\n'.join(lines) + '\n')
    return ids, labels


def test_voc07_classification_reads_a_voc_tree(tmp_path):
    ids, labels = fake_voc(tmp_path, 6, 'trainval', seed=1)
    dataset = VOC07Classification(data_root=str(tmp_path), split='trainval',
                                  pipeline=[dict(type='LoadImageFromFile'),
                                            dict(type='PackInputs')])
    assert len(dataset) == 6
    assert np.array_equal(dataset.get_gt_labels(), labels)  # sorted ids, class order
    sample = dataset[2]
    assert sample['inputs'].shape[0] == 3 and sample['inputs'].ndim == 3
    assert sample['data_samples'].gt_label.tolist() == labels[2].tolist()
    assert dataset.get_data_info(0)['img_path'].endswith(f'JPEGImages/{ids[0]}.jpg')
    with pytest.raises(FileNotFoundError, match='aeroplane_test.txt'):
        VOC07Classification(data_root=str(tmp_path), split='test')
    (tmp_path / 'ImageSets/Main/dog_trainval.txt').write_text('010000 2\n')
    with pytest.raises(ValueError, match='dog_trainval.txt:1'):
        VOC07Classification(data_root=str(tmp_path), split='trainval')


def test_the_tool_runs_the_voc_config_on_a_tiny_voc_tree(tmp_path):
    """The ImageNet-style config on a fake VOC tree, shrunk to a ResNet-18 at 32 px."""
    fake_voc(tmp_path / 'voc', 30, 'trainval', seed=2)
    fake_voc(tmp_path / 'voc', 20, 'test', seed=3)
    pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(32, 32)),
                dict(type='PackInputs')]
    overrides = dict(data_root=str(tmp_path / 'voc'),
                     model=dict(backbone=dict(depth=18)),
                     svm_train_dataloader=dict(num_workers=0, dataset=dict(
                         data_root=str(tmp_path / 'voc'), pipeline=pipeline)),
                     svm_test_dataloader=dict(num_workers=0, dataset=dict(
                         data_root=str(tmp_path / 'voc'), pipeline=pipeline)))
    config = write_config(str(tmp_path / 'voc_svm.py'), VOC_SVM, overrides)
    cfg = Config.fromfile(VOC_SVM)
    assert cfg.svm.stages == ['res2', 'res3', 'res4', 'res5'] and cfg.svm.pool == 'adaptive'
    assert len(cfg.svm.costs) == 19  # MMSelfSup's 1, 10, 100 and 2^-4 ... 2^-19
    summary = svm_voc07([config, 'none', '--costs', '1', '--stages', 'res4', 'res5',
                         '--out', str(tmp_path / 'voc.json')])
    assert summary['num_train'] == 30 and summary['num_test'] == 20
    res5 = summary['stages']['res5']
    assert len(res5['ap']) == 20 and 'tvmonitor' in res5['ap'] and 0 < res5['mAP'] <= 100
    assert res5['dims'] == 512  # ResNet-18 res5 at 32 px is 1 x 1
