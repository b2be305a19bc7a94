"""A rank that dies (SIGKILL) in a 2-process gloo run: the other does not hang, the
launcher stops the run within seconds and names the failed rank and the signal."""
import os
import subprocess
import sys
import time

import pytest

from tests._helpers import DEMO_CONFIG, REPO_ROOT, tiny_run_overrides, write_config
from tests.test_tools.test_dist_train import _free_port


@pytest.mark.slow
@pytest.mark.dist
def test_a_killed_rank_stops_the_run_with_a_clear_error(tmp_path, fashion_mnist_root):
    overrides = tiny_run_overrides(str(tmp_path / 'wd'), images=96, batch=8)  # 6 iters/rank
    overrides['custom_imports'] = dict(imports=['tests._kill_hook'], allow_failed_imports=False)
    overrides['custom_hooks'] = overrides['custom_hooks'] + [
        dict(type='KillAtIterationHook', iteration=2, rank=1)]
    config = write_config(str(tmp_path / 'cfg.py'), DEMO_CONFIG, overrides)
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()), OMP_NUM_THREADS='1')
    start = time.monotonic()
    proc = subprocess.run(['bash', 'tools/dist_train.sh', config, '2'], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    elapsed = time.monotonic() - start
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert 'rank' in output and ': 1' in output and 'SIGKILL' in output, output[-3000:]
    assert elapsed < 120, elapsed  # rank 0 was stopped, it did not wait in a collective
    assert not (tmp_path / 'wd' / 'epoch_1.pth').exists()
