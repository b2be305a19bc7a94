"""A 2-process gloo run killed after its first epoch and resumed with 2 processes: the
memory bank (NPID) and the key queue (MoCo) are identical on both ranks afterwards, and
equal to what the final checkpoint holds."""
import os
import signal
import subprocess
import sys

import pytest
import torch

from tests._helpers import REPO_ROOT, assert_resumed, tiny_run_overrides, write_config
from tests.test_tools.test_dist_train import _free_port

CONFIGS = {
    'memory-bank': ('configs/mocov2/mocov2_resnet18-membank_1xb256-coslr-2e_fmnist.py',
                    dict(dictionary=dict(size=64, num_negatives=16), bn_splits=1),
                    'dictionary.bank.feats'),
    'queue': ('configs/mocov2/mocov2_resnet18_1xb256-coslr-2e_fmnist.py',
              dict(dictionary=dict(queue_length=64), bn_splits=1), 'dictionary.queue.keys'),
}


def _dist_train(config: str, *args) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()), OMP_NUM_THREADS='1')
    return subprocess.run(['bash', 'tools/dist_train.sh', config, '2', *args], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
@pytest.mark.dist
@pytest.mark.parametrize('kind', list(CONFIGS))
def test_buffers_stay_identical_across_ranks_after_a_resume(kind, tmp_path,
                                                            fashion_mnist_root):
    base, model, key = CONFIGS[kind]
    work_dir = tmp_path / 'wd'
    overrides = tiny_run_overrides(str(work_dir), images=64, batch=8, epochs=2)  # 4 it/rank
    overrides['model'] = model
    overrides['custom_imports'] = dict(imports=['tests._kill_hook'], allow_failed_imports=False)
    hooks = overrides['custom_hooks']
    killed = write_config(str(tmp_path / 'killed.py'), os.path.join(REPO_ROOT, base), dict(
        overrides, custom_hooks=hooks + [dict(type='KillAfterEpochHook', epoch=1, rank=0)]))
    proc = _dist_train(killed)
    assert proc.returncode != 0 and (work_dir / 'epoch_1.pth').exists(), proc.stderr[-3000:]
    assert not (work_dir / 'epoch_2.pth').exists()
    output = proc.stdout + proc.stderr
    assert 'SIGKILL' in output or str(-signal.SIGKILL) in output, output[-3000:]

    resumed = write_config(str(tmp_path / 'resumed.py'), os.path.join(REPO_ROOT, base), dict(
        overrides, custom_hooks=hooks + [dict(type='DumpModelBuffersHook')]))
    proc = _dist_train(resumed, '--resume')
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert_resumed(work_dir, 4, 4, 8)  # rank 0's log: the resumed run began at epoch 2
    ranks = [torch.load(work_dir / f'buffers_rank{r}.pth', weights_only=True) for r in (0, 1)]
    assert ranks[0].keys() == ranks[1].keys() and key in ranks[0]
    for name, value in ranks[0].items():  # (BN running statistics are per rank)
        if name.startswith('dictionary.'):  # the bank or queue and its pointer
            assert torch.equal(value, ranks[1][name]), name
    final = torch.load(work_dir / 'epoch_2.pth', map_location='cpu', weights_only=False)
    assert torch.equal(final['state_dict'][key], ranks[0][key])
    first = torch.load(work_dir / 'epoch_1.pth', map_location='cpu', weights_only=False)
    assert not torch.equal(first['state_dict'][key], ranks[0][key])  # epoch 2 wrote to it
