"""The wheel carries the configs and tools (mmssl/.mim/): a plugin project in any folder
inherits ``mmssl::`` bases and trains through the wheel's tools/train.py, as
``mim train mmssl CONFIG`` runs it."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch

from tests._helpers import REPO_ROOT, logged_train_iterations, tiny_run_overrides, write_config

# What the wheel is built from; the rest of the repository (tests, data, work_dirs) stays out.
SOURCES = ['pyproject.toml', 'README.md', 'model-index.yml', 'mmssl', 'configs', 'tools']

PLUGIN_PACKAGE = '''\
"""A neck registered in mmssl's MODELS; records which mmssl and sys.path it ran with."""
import json
import os.path as osp
import sys

import mmssl
from torch import nn

from mmssl.registry import MODELS

with open(osp.join(osp.dirname(osp.dirname(__file__)), 'imported_by.json'), 'w') as f:
    json.dump(dict(mmssl=mmssl.__file__, sys_path=sys.path), f)


@MODELS.register_module()
class PluginNeck(nn.Module):
    """Average-pool the last map, then one linear layer."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.plugin_fc = nn.Linear(in_channels, out_channels)

    def forward(self, feats):
        return (self.plugin_fc(feats[-1].mean((2, 3))),)
'''


def _run(cmd: list, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kwargs)
    assert proc.returncode == 0, f'{" ".join(cmd)}\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}'
    return proc


def _build_and_install_wheel(tmp_path) -> str:
    """Build mmssl's wheel from a copy of the sources (no build/ or egg-info in the
    repository) and install it without dependencies in a target folder; returns it."""
    src = tmp_path / 'src'
    src.mkdir()
    ignore = shutil.ignore_patterns('__pycache__', '*.egg-info')
    for name in SOURCES:
        origin = osp.join(REPO_ROOT, name)
        if osp.isdir(origin):  # symlinks=True: mmssl/.mim's links stay relative to the copy
            shutil.copytree(origin, src / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy(origin, src / name)
    pip = [sys.executable, '-m', 'pip', '--disable-pip-version-check']
    _run(pip + ['wheel', '--no-deps', '--no-build-isolation', '--no-index',
                '-w', str(tmp_path / 'dist'), str(src)])
    wheel, = (tmp_path / 'dist').glob('mmssl-*.whl')
    site = str(tmp_path / 'site')
    _run(pip + ['install', '--no-deps', '--no-index', '--target', site, str(wheel)])
    return site


@pytest.mark.slow
def test_a_plugin_outside_the_repository_trains_with_the_installed_wheel(
        tmp_path, fashion_mnist_root):
    site = _build_and_install_wheel(tmp_path)
    train = osp.join(site, 'mmssl', '.mim', 'tools', 'train.py')
    assert osp.isfile(osp.join(site, 'mmssl', '.mim', 'model-index.yml'))

    plugin = tmp_path / 'plugin'
    (plugin / 'plugin_neck').mkdir(parents=True)
    (plugin / 'plugin_neck' / '__init__.py').write_text(PLUGIN_PACKAGE)
    (plugin / 'configs').mkdir()
    overrides = tiny_run_overrides('work_dirs/plugin', images=16)  # 2 iterations of 8
    overrides['model']['neck'] = dict(_delete_=True, type='PluginNeck', in_channels=128,
                                      out_channels=128)
    overrides['custom_imports'] = dict(imports=['plugin_neck'], allow_failed_imports=False)
    write_config(str(plugin / 'configs' / 'plugin.py'),
                 ['mmssl::mocov2/mocov2_resnet18_1xb256-coslr-2e_fmnist.py'], overrides)

    env = dict(os.environ, PYTHONPATH=site, OMP_NUM_THREADS='1')
    _run([sys.executable, train, 'configs/plugin.py'], cwd=plugin, env=env)

    imported_by = json.loads((plugin / 'imported_by.json').read_text())
    assert imported_by['mmssl'].startswith(site + os.sep)  # the wheel's mmssl, not the repo's
    # neither the repository nor the cwd (``''``): the plugin was found beside its config
    sys_path = [osp.realpath(p) for p in imported_by['sys_path'] if p]
    assert '' not in imported_by['sys_path'] and osp.realpath(REPO_ROOT) not in sys_path
    work_dir = plugin / 'work_dirs' / 'plugin'  # relative to the plugin folder, the cwd
    assert logged_train_iterations(str(work_dir)) == [[1, 2]]
    state = torch.load(work_dir / 'epoch_1.pth', weights_only=False)['state_dict']
    assert state['neck.plugin_fc.weight'].shape == (128, 128)  # the plugin's neck trained
