"""tools/analysis/{extract_features,visualize_tsne,plot_curves}.py and mmssl/apis/features.py."""
import json

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmssl.apis import build_feature_model, parse_stage, pool_stage
from mmssl.registry import MODELS
from tests._helpers import DEMO_CONFIG
from tools.analysis.extract_features import main as extract_main
from tools.analysis.plot_curves import main as plot_main
from tools.analysis.visualize_tsne import main as tsne_main


@pytest.fixture(autouse=True)
def _one_openmp_thread():
    """sklearn's t-SNE shares torch's OpenMP runtime: with the suite's 2 threads on a busy
    2-core machine its 1,000 small parallel steps wait at barriers (30 s instead of 0.5)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def demo_checkpoint(tmp_path_factory) -> str:
    """A real mmssl checkpoint: the MoCo v2 demo model, its backbone weights perturbed so
    that loading them is visible."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmssl')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(DEMO_CONFIG).model)
    with torch.no_grad():
        model.backbone.conv1.weight.add_(1.0)
    path = str(tmp_path_factory.mktemp('ckpt') / 'demo.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path


def test_stage_names_and_pooling():
    assert parse_stage('res2') == ('res2', 0) and parse_stage('res5') == ('res5', 3)
    assert parse_stage(1) == ('stage1', 1) and parse_stage('stage2') == ('stage2', 2)
    with pytest.raises(ValueError, match="unknown stage 'conv9'"):
        parse_stage('conv9')
    x = torch.randn(2, 256, 56, 56)
    assert pool_stage(x).shape == (2, 256)
    assert torch.allclose(pool_stage(x), x.mean(dim=(2, 3)))
    # the VOC07 protocol's sizes for ResNet-50 stages at 224 px (about 9k dims each)
    for channels, side, dims in ((256, 56, 9216), (512, 28, 8192), (1024, 14, 9216),
                                 (2048, 7, 8192)):
        assert pool_stage(torch.zeros(1, channels, side, side), 'adaptive').shape[1] == dims
    assert pool_stage(torch.zeros(1, 128, 4, 4), 'adaptive').shape[1] == 2048  # capped at 4x4


def test_checkpoint_weights_reach_the_backbone(demo_checkpoint, tmp_path):
    model = build_feature_model(DEMO_CONFIG, demo_checkpoint, ['res5'], device='cpu')
    saved = torch.load(demo_checkpoint)['state_dict']['backbone.conv1.weight']
    assert torch.equal(model.backbone.conv1.weight, saved) and not model.training
    # a backbone-only file with 'backbone.' keys loads the same
    backbone_only = {k: v for k, v in torch.load(demo_checkpoint)['state_dict'].items()
                     if k.startswith('backbone.')}
    torch.save(backbone_only, tmp_path / 'backbone.pth')
    other = build_feature_model(DEMO_CONFIG, str(tmp_path / 'backbone.pth'), ['res5'], 'cpu')
    assert torch.equal(other.backbone.conv1.weight, saved)
    torch.save({'state_dict': {'neck.fc.weight': torch.zeros(1)}}, tmp_path / 'neck.pth')
    with pytest.raises(ValueError, match="no 'backbone.' weights"):
        build_feature_model(DEMO_CONFIG, str(tmp_path / 'neck.pth'), ['res5'], 'cpu')


def test_extract_features_writes_npy_per_stage(tmp_path, demo_checkpoint, fashion_mnist_root):
    out = tmp_path / 'feats'
    meta = extract_main([DEMO_CONFIG, demo_checkpoint, '--out', str(out), '--stages', 'res4',
                         'res5', '--dataset', 'test', '--max-images', '48'])
    res4, res5, labels = (np.load(out / f'{n}.npy') for n in ('res4', 'res5', 'labels'))
    assert res4.shape == (48, 64) and res5.shape == (48, 128) and res4.dtype == np.float32
    assert labels.shape == (48, ) and labels.tolist()[:3] == [9, 2, 1]  # the test set's first
    assert meta['classes'][0] == 'T-shirt/top' and meta['stages'] == ['res4', 'res5']
    assert json.loads((out / 'meta.json').read_text())['num_images'] == 48
    # the kNN set: the bank, then the queries; adaptive pooling
    knn = tmp_path / 'knn'
    extract_main([DEMO_CONFIG, 'none', '--out', str(knn), '--dataset', 'knn', '--max-images',
                  '8', '--pool', 'adaptive', '--pool-dim', '512'])
    assert np.load(knn / 'res5.npy').shape == (16, 128 * 2 * 2)
    assert np.load(knn / 'knn_bank.npy').tolist() == [True] * 8 + [False] * 8
    with pytest.raises(SystemExit, match='has no nope_dataloader'):
        extract_main([DEMO_CONFIG, 'none', '--out', str(knn), '--dataset', 'nope'])

    png = tmp_path / 'tsne.png'
    tsne_main(['--features', str(out), '--out', str(png), '--size', '3', '--dpi', '100',
               '--perplexity', '10'])
    image = cv2.imread(str(png))
    assert image is not None and image.shape == (300, 300, 3)
    assert image.std() > 10  # something was drawn
    with pytest.raises(SystemExit, match="holds the stages \\['res4', 'res5'\\]"):
        tsne_main(['--features', str(out), '--stage', 'res2', '--out', str(png)])


def test_tsne_straight_from_a_config(tmp_path, demo_checkpoint, fashion_mnist_root):
    png = tmp_path / 'direct.png'
    tsne_main([DEMO_CONFIG, demo_checkpoint, '--max-images', '40', '--out', str(png),
               '--size', '2', '--dpi', '80', '--perplexity', '5'])
    assert cv2.imread(str(png)).shape == (160, 160, 3)


def write_scalars(path):
    rows = [{'knn/top1': 70.0, 'knn/top5': 96.0, 'step': 0}]
    rows += [{'lr': 0.06, 'loss': 8.0 - i / 10, 'epoch': 1, 'iter': i, 'step': i}
             for i in range(10, 110, 10)]
    rows += [{'knn/top1': 77.0, 'knn/top5': 98.0, 'step': 100}]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('\n'.join(json.dumps(r) for r in rows) + '\n')


def test_plot_curves_from_a_work_dir(tmp_path):
    write_scalars(tmp_path / 'work' / '20260101_000000' / 'vis_data' / 'scalars.json')
    png = tmp_path / 'curves.png'
    plot_main([str(tmp_path / 'work'), '--out', str(png)])  # default: loss and knn/top1
    image = cv2.imread(str(png))
    assert image is not None and image.shape == (500, 600, 3)  # 2 panels, 6 x 5 in at 100 dpi
    one = tmp_path / 'one.png'
    plot_main([str(tmp_path / 'work' / '20260101_000000' / 'vis_data' / 'scalars.json'),
               '--keys', 'lr', '--out', str(one)])
    assert cv2.imread(str(one)).shape == (280, 600, 3)


def test_plot_curves_names_a_missing_key_and_the_file(tmp_path):
    scalars = tmp_path / 'scalars.json'
    write_scalars(scalars)
    with pytest.raises(SystemExit) as err:
        plot_main([str(scalars), '--keys', 'loss', 'acc/top1', '--out', str(tmp_path / 'x.png')])
    message = str(err.value)
    assert "no 'acc/top1'" in message and str(scalars) in message
    assert 'logged keys: knn/top1, knn/top5, loss, lr' in message
    assert not (tmp_path / 'x.png').exists()
    with pytest.raises(SystemExit, match='no scalars.json in'):
        plot_main([str(tmp_path / 'empty_dir_that_is_missing'), '--out', str(tmp_path / 'y.png')])
