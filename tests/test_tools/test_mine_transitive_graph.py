"""tools/dataset_converters/mine_transitive_graph.py: videos + images -> a graph the
TransitiveTripletDataset reads."""
import os.path as osp

import cv2
import numpy as np
import pytest

from mmssl.datasets import TransitiveTripletDataset, read_idx
from mmssl.mining.graph import PatchGraph
from tools.dataset_converters.mine_transitive_graph import main, parse_args


def fmnist_images(root: str, count: int, side: int) -> list:
    images = read_idx(osp.join(root, 't10k-images-idx3-ubyte.gz'))[:count]
    return [cv2.resize(np.repeat(img[..., None], 3, axis=2), (side, side)) for img in images]


@pytest.fixture(scope='module')
def data(tmp_path_factory, fashion_mnist_root):
    root = tmp_path_factory.mktemp('mine')
    (root / 'videos').mkdir()
    (root / 'images').mkdir()
    texture = fmnist_images(fashion_mnist_root, 1, 48)[0]
    writer = cv2.VideoWriter(str(root / 'videos' / 'clip.avi'),
                             cv2.VideoWriter_fourcc(*'MJPG'), 10, (128, 96))
    for t in range(8):
        frame = np.full((96, 128, 3), 60, np.uint8)
        frame[20 + t:68 + t, 16 + 3 * t:64 + 3 * t] = texture
        writer.write(frame)
    writer.release()
    for i, image in enumerate(fmnist_images(fashion_mnist_root, 6, 96)):
        cv2.imwrite(str(root / 'images' / f'img{i}.png'), image)
    return root


def test_cli_writes_a_graph_the_dataset_reads(data):
    out = str(data / 'out' / 'graph.json')
    main(['--videos', str(data / 'videos'), '--images', str(data / 'images'),
          '--clusters', '3', '--neighbours', '4', '--patch-size', '32', '--every', '4',
          '--out', out])
    graph = PatchGraph.load(out)
    kinds = {kind for _, _, kind in graph.edges}
    assert kinds == {'intra', 'inter'}
    intra = [n for n in graph.nodes if n['frame'] >= 0]
    assert intra and {n['frame'] for n in intra} == {0, 4, 7}
    for node in graph.nodes:  # real image files beside the graph, of the patch size
        crop = cv2.imread(osp.join(data / 'out', node['img_path']))
        assert crop is not None and crop.shape == (32, 32, 3)
    dataset = TransitiveTripletDataset(
        graph_file=out, view_pipeline=[dict(type='LoadImageFromFile')],
        pipeline=[dict(type='PackInputs')])
    views = dataset[0]['inputs']
    assert len(views) == 3 and all(v.shape == (3, 32, 32) for v in views)


def test_cli_errors_name_the_value(data, capsys):
    with pytest.raises(SystemExit):
        parse_args(['--images', str(data / 'nowhere'), '--clusters', '2', '--out', 'g.json'])
    assert 'nowhere' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(['--images', str(data / 'images'), '--out', 'g.json'])
    assert '--clusters' in capsys.readouterr().err
    with pytest.raises(ValueError, match='--clusters 1000 exceeds'):
        main(['--images', str(data / 'images'), '--clusters', '1000', '--patch-size', '32',
              '--out', str(data / 'bad' / 'graph.json')])
    with pytest.raises(FileNotFoundError, match='no video'):
        main(['--videos', str(data / 'images'), '--out', str(data / 'bad' / 'graph.json')])


def test_backbone_features_from_a_config(fashion_mnist_root):
    from tools.dataset_converters.mine_transitive_graph import backbone_features
    config = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
                      'configs/transitiveinvariance/'
                      'transitiveinvariance_resnet18_1xb32-coslr-2e_labelme.py')
    crops = fmnist_images(fashion_mnist_root, 3, 32)
    feats = backbone_features(crops, config, 'none', device='cpu')
    assert feats.shape == (3, 128) and np.isfinite(feats).all()
