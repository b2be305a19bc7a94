import os.path as osp
import subprocess
import sys

import torch

from tests._helpers import REPO_ROOT, tiny_run_overrides, write_config

PROJECT_CONFIG = osp.join(REPO_ROOT, 'projects/mlp_neck/configs/'
                          'mocov2_resnet18-mlp3_1xb256-coslr-2e_fmnist.py')


def test_plugin_trains_from_its_own_config(tmp_path, fashion_mnist_root):
    overrides = tiny_run_overrides(str(tmp_path / 'wd'), images=16)
    write_config(str(tmp_path / 'cfg.py'), PROJECT_CONFIG, overrides)
    proc = subprocess.run([sys.executable, 'tools/train.py', str(tmp_path / 'cfg.py')],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    state = torch.load(tmp_path / 'wd' / 'epoch_1.pth', weights_only=False)['state_dict']
    # the plugin's neck was built and trained: three linear layers, as the project defines
    linear = [k for k, v in state.items()
              if k.startswith('neck.mlp.') and k.endswith('.weight') and v.ndim == 2]
    assert linear == ['neck.mlp.0.weight', 'neck.mlp.3.weight', 'neck.mlp.6.weight']


def test_a_typo_in_custom_imports_fails_loudly(tmp_path):
    cfg = write_config(str(tmp_path / 'cfg.py'), PROJECT_CONFIG, dict(
        custom_imports=dict(imports=['projects.mlp_nek.mlp_neck'], allow_failed_imports=False),
        work_dir=str(tmp_path / 'wd')))
    proc = subprocess.run([sys.executable, 'tools/train.py', cfg], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0 and "No module named 'projects.mlp_nek'" in proc.stderr
