"""mmssl/apis/inference.py: get_model from a config or a zoo name, and the example of
docs/python_api.md run as it is written."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import set_random_seed

from mmssl.apis import build_feature_model, get_model, zoo_models
from mmssl.datasets import FashionMNIST
from mmssl.registry import MODELS
from tests._helpers import DEMO_CONFIG, REPO_ROOT

DOC = osp.join(REPO_ROOT, 'docs', 'python_api.md')
DEMO_ROW = 'mocov2_resnet18-cifar-w16_demo-2e'


def documented_example() -> str:
    """The Python code between the example markers of docs/python_api.md."""
    with open(DOC) as f:
        text = f.read()
    start, end = '<!-- python-api-example: start -->', '<!-- python-api-example: end -->'
    block = text[text.index(start) + len(start):text.index(end)].strip()
    assert block.startswith('```python\n') and block.endswith('\n```'), block[:40]
    return block[len('```python\n'):-len('```')]


def save_checkpoint(path, state: dict = None) -> dict:
    """The MoCo v2 demo model built from its real config at random initial weights, saved
    as mmengine saves it; returns its state dict."""
    if state is None:
        state = MODELS.build(Config.fromfile(DEMO_CONFIG).model).state_dict()
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    torch.save({'state_dict': state, 'meta': {'epoch': 2}}, str(path))
    return state


def test_the_documented_example_runs(tmp_path, monkeypatch, capsys, fashion_mnist_root):
    monkeypatch.chdir(tmp_path)  # the example's relative paths: configs/, work_dirs/, my_images/
    os.symlink(osp.join(REPO_ROOT, 'configs'), tmp_path / 'configs')
    torch.manual_seed(0)
    state = save_checkpoint(tmp_path / 'work_dirs/demo/epoch_2.pth')
    first = np.stack([s['img'] for s in FashionMNIST(fashion_mnist_root, 'test', indices=3)])
    os.makedirs('my_images')
    for num, image in enumerate(first):
        cv2.imwrite(f'my_images/{num}.png', image[..., 0])  # grey files, decoded as 3 x grey

    namespace = {}
    exec(compile(documented_example(), DOC, 'exec'), namespace)

    model = namespace['model']
    assert torch.equal(model.backbone.conv1.weight, state['backbone.conv1.weight'])
    assert namespace['feats'].shape == (8, 128) and namespace['feats'].dtype == torch.float32
    # the files of the folder give the features of the same pixels given as an array
    assert torch.allclose(namespace['folder_feats'], model(first), atol=1e-5)
    result = namespace['result']
    assert result['res5'].shape == (100, 128) and result['labels'].shape == (100, )
    printed = capsys.readouterr()
    assert '(100, 128) [9 2 1 1 6]' in printed.out  # what the example's comment says
    assert 'features: 100%' in printed.err  # extract_features' progress bar


def test_weights_that_do_not_fit_name_the_file_and_the_keys(tmp_path):
    state = MODELS.build(Config.fromfile(DEMO_CONFIG).model).state_dict()
    state['backbone.conv9.weight'] = state.pop('backbone.conv1.weight')
    path = str(tmp_path / 'renamed.pth')
    save_checkpoint(path, state)
    with pytest.raises(ValueError, match=r"renamed.pth .*missing \['conv1.weight'\].*"
                                         r"unexpected \['conv9.weight'\]"):
        get_model(DEMO_CONFIG, path, device='cpu')
    state['backbone.conv1.weight'] = torch.zeros(1)
    save_checkpoint(path, state)
    with pytest.raises(ValueError, match='(?s)renamed.pth .*size mismatch for conv1.weight'):
        get_model(DEMO_CONFIG, path, device='cpu')


def test_a_zoo_name_gives_its_config_and_the_checkpoint_of_its_run(tmp_path):
    row = zoo_models()[DEMO_ROW]
    assert row['Config'] == osp.join(REPO_ROOT, 'configs/mocov2/'
                                     'mocov2_resnet18_1xb256-coslr-2e_fmnist.py')
    # a zoo trained elsewhere, then moved: last_checkpoint names a path that is gone
    run_dir = tmp_path / DEMO_ROW / 'seed1'
    torch.manual_seed(1)
    state = save_checkpoint(run_dir / 'epoch_2.pth')
    (run_dir / 'last_checkpoint').write_text(f'/elsewhere/zoo/{DEMO_ROW}/seed1/epoch_2.pth')
    model = get_model(DEMO_ROW, seed=1, zoo_dir=str(tmp_path), device='cpu')
    assert torch.equal(model.backbone.conv1.weight, state['backbone.conv1.weight'])
    with pytest.raises(FileNotFoundError,
                       match=f'train_zoo.py --rows {DEMO_ROW} --seeds 2'):
        get_model(DEMO_ROW, seed=2, zoo_dir=str(tmp_path))
    with pytest.raises(ValueError, match="'no-such-model' is neither a config file nor a "
                                         "zoo model.*'random-init_resnet18-cifar-w16'"):
        get_model('no-such-model')


def test_a_random_init_row_draws_the_weights_the_zoo_scored():
    set_random_seed(1)  # as tools/analysis/eval_protocol.py --seed 1 before it builds
    scored = build_feature_model(DEMO_CONFIG, None, device='cpu').backbone.conv1.weight
    got = get_model('random-init_resnet18-cifar-w16', seed=1, device='cpu')
    assert torch.equal(got.backbone.conv1.weight, scored)
    other = get_model('random-init_resnet18-cifar-w16', seed=2, device='cpu')
    assert not torch.equal(other.backbone.conv1.weight, scored)
