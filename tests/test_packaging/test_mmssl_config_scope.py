"""A config anywhere inherits mmssl's configs as ``mmssl::<folder>/<name>.py`` bases."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

import mmssl
from mmssl.apis.runner import load_config
from tests._helpers import REPO_ROOT

BASE = 'mmssl::mocov2/mocov2_resnet18_1xb256-coslr-2e_fmnist.py'


def test_mmssl_scope_resolves_from_the_installed_package(tmp_path):
    path = tmp_path / 'plugin.py'
    path.write_text(f'_base_ = [{BASE!r}]\nmodel = dict(bn_splits=1)\n')
    cfg = Config.fromfile(str(path))
    assert cfg.model.type == 'MoCo' and cfg.model.bn_splits == 1
    assert cfg.model._scope_ == 'mmssl'  # the base's types are looked up in mmssl
    # read from <package>/.mim/configs, which is the repository's configs/ here
    shipped = osp.join(osp.dirname(mmssl.__file__), '.mim', 'configs')
    assert osp.samefile(shipped, osp.join(REPO_ROOT, 'configs'))


def test_an_unknown_mmssl_base_names_the_missing_file(tmp_path):
    path = tmp_path / 'plugin.py'
    path.write_text("_base_ = ['mmssl::mocov2/no_such_config.py']\n")
    with pytest.raises(FileNotFoundError, match=r'\.mim/configs/mocov2/no_such_config\.py'):
        Config.fromfile(str(path))


def test_a_dataloader_of_a_scoped_base_collates(tmp_path, fashion_mnist_root):
    """mmengine gives the base's ``collate_fn`` a ``_scope_`` key, which it then passes to
    the function; load_config drops it."""
    path = tmp_path / 'plugin.py'
    path.write_text(f'_base_ = [{BASE!r}]\n'
                    'train_dataloader = dict(batch_size=2, num_workers=0, '
                    'persistent_workers=False, dataset=dict(indices=2))\n')
    cfg = load_config(str(path))
    batch = next(iter(Runner.build_dataloader(cfg.train_dataloader)))
    assert len(batch['data_samples']) == 2
