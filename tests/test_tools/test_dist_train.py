"""tools/dist_train.sh with 2 processes on the CPU (gloo), as a user runs it."""
import os
import socket
import subprocess
import sys

import pytest
import torch

from tests._helpers import DEMO_CONFIG, REPO_ROOT, tiny_run_overrides, write_config


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.dist
def test_dist_train_two_cpu_processes(tmp_path, fashion_mnist_root):
    work_dir = tmp_path / 'wd'
    overrides = tiny_run_overrides(str(work_dir), images=48, batch=8)  # 3 iters per rank
    overrides['log_level'] = 'INFO'
    config = write_config(str(tmp_path / 'cfg.py'), DEMO_CONFIG, overrides)
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()), OMP_NUM_THREADS='1')
    proc = subprocess.run(['bash', 'tools/dist_train.sh', config, '2'], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]

    log = next(work_dir.glob('*/*.log')).read_text()
    assert 'Distributed launcher: pytorch' in log and 'Distributed training: True' in log
    assert 'GPU number: 2' in log or 'world_size: 2' in log
    state = torch.load(work_dir / 'epoch_1.pth', weights_only=False)
    # 3 iterations x (2 ranks x 8 keys) went through the queue: both ranks trained and
    # their keys were gathered (one process alone would have written 24)
    assert int(state['state_dict']['dictionary.queue.ptr']) == 48
    assert state['meta']['iter'] == 3

    # the checkpoint loads back into the model built from the same config
    from mmengine.config import Config
    from mmssl.registry import MODELS
    model = MODELS.build(Config.fromfile(config).model)
    model.load_state_dict(state['state_dict'], strict=True)  # raises on any key mismatch
