"""tools/analysis/counting_sparsity.py: figures of known count vectors, and a real run."""
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from tests._helpers import REPO_ROOT
from tools.analysis import counting_sparsity

CONFIG = osp.join(REPO_ROOT, 'configs/counting/counting_resnet18_1xb256-coslr-1e_fmnist.py')
SMALL = ['--images', '12', '--batch-size', '6', '--device', 'cpu', '--cfg-options',
         'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False']


def test_sparsity_of_known_counts():
    counts = torch.tensor([[0.0, 1.0, 0.0, 3.0],
                           [0.0, 2.0, 0.0, 0.0]])
    assert counting_sparsity.sparsity(counts) == dict(
        vectors=2, dims=4, zero_fraction=0.625, nonzero_per_vector=1.5, dead_dims=2,
        mean_count=0.75)


def test_reads_the_checkpoint_and_writes_the_report(tmp_path, fashion_mnist_root):
    """Random weights give some non-zero counts; a checkpoint whose last layer's bias is
    very negative gives none: the figures come from the checkpoint's head."""
    out = str(tmp_path / 'sparsity.json')
    report = counting_sparsity.main([CONFIG, 'none', '--out', out] + SMALL)
    assert report['downsampled']['vectors'] == 12 and report['tiles']['vectors'] == 48
    assert report['all']['dims'] == 64 and report['all']['zero_fraction'] < 1.0
    assert json.load(open(out)) == report

    cfg = Config.fromfile(CONFIG)
    model = counting_sparsity.build_counting_model(cfg, None)
    with torch.no_grad():
        model.head.fc.bias.fill_(-1e4)
    ckpt = str(tmp_path / 'silent.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    report = counting_sparsity.main([CONFIG, ckpt] + SMALL)
    assert report['all']['zero_fraction'] == 1.0 and report['all']['dead_dims'] == 64


def test_refuses_a_model_that_does_not_count(tmp_path):
    with pytest.raises(ValueError, match="not 'Counting'"):
        counting_sparsity.main([osp.join(REPO_ROOT, 'configs/mocov2/'
                                         'mocov2_resnet18_1xb256-coslr-2e_fmnist.py'), 'none'])
