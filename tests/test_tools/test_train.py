"""tools/train.py and tools/test.py as a user runs them: real processes, real runner."""
import json
import os.path as osp
import signal
import subprocess
import sys

import pytest
import torch

from tests._helpers import (DEMO_CONFIG, REPO_ROOT, assert_resumed, tiny_run_overrides,
                            write_config)


def run_tool(*args, check=True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed ({proc.returncode}):\n{proc.stderr[-3000:]}')
    return proc


def load_state(path: str) -> dict:
    return torch.load(path, map_location='cpu', weights_only=False)


@pytest.mark.slow
def test_resume_after_a_kill_equals_an_uninterrupted_run(tmp_path, fashion_mnist_root):
    full = tiny_run_overrides(str(tmp_path / 'full'), epochs=2, deterministic=True)
    write_config(str(tmp_path / 'full.py'), DEMO_CONFIG, full)
    run_tool('tools/train.py', str(tmp_path / 'full.py'))

    killed = tiny_run_overrides(str(tmp_path / 'killed'), epochs=2, deterministic=True)
    killed['custom_imports'] = dict(imports=['tests._kill_hook'], allow_failed_imports=False)
    killed['custom_hooks'] = killed['custom_hooks'] + [dict(type='KillAfterEpochHook', epoch=1)]
    write_config(str(tmp_path / 'killed.py'), DEMO_CONFIG, killed)
    proc = run_tool('tools/train.py', str(tmp_path / 'killed.py'), check=False)
    assert proc.returncode == -signal.SIGKILL
    assert not osp.exists(tmp_path / 'killed' / 'epoch_2.pth')
    with open(tmp_path / 'killed' / 'last_checkpoint') as f:
        assert f.read().endswith('epoch_1.pth')

    # Resume the killed run (same config without the kill) from its latest checkpoint.
    killed['custom_hooks'] = killed['custom_hooks'][:1]
    write_config(str(tmp_path / 'killed.py'), DEMO_CONFIG, killed)
    run_tool('tools/train.py', str(tmp_path / 'killed.py'), '--resume')
    assert_resumed(tmp_path / 'killed', 4, 4, 8)  # killed after epoch 1, went on from it

    ref = load_state(str(tmp_path / 'full' / 'epoch_2.pth'))
    got = load_state(str(tmp_path / 'killed' / 'epoch_2.pth'))
    assert got['meta']['iter'] == ref['meta']['iter'] == 8
    assert got['meta']['epoch'] == ref['meta']['epoch'] == 2
    assert ref['state_dict'].keys() == got['state_dict'].keys()
    assert int(got['state_dict']['dictionary.queue.ptr']) == (8 * 8) % 64
    for key, value in ref['state_dict'].items():
        assert torch.equal(value, got['state_dict'][key]), key  # queue, key encoder, ...
    # the queue really changed during training (it is not still its random init)
    first = load_state(str(tmp_path / 'full' / 'epoch_1.pth'))['state_dict'][
        'dictionary.queue.keys']
    assert not torch.equal(first, ref['state_dict']['dictionary.queue.keys'])


def test_resume_from_a_missing_file_names_it(tmp_path):
    proc = run_tool('tools/train.py', DEMO_CONFIG, '--work-dir', str(tmp_path),
                    '--resume', str(tmp_path / 'nope.pth'), check=False)
    assert proc.returncode != 0
    assert f'checkpoint file not found: {tmp_path / "nope.pth"}' in proc.stderr


def test_missing_config_file_is_named(tmp_path):
    proc = run_tool('tools/train.py', str(tmp_path / 'no_such_config.py'), check=False)
    assert proc.returncode != 0 and 'config file not found' in proc.stderr
    assert 'no_such_config.py' in proc.stderr


def test_unknown_type_in_a_config_is_named(tmp_path, fashion_mnist_root):
    overrides = tiny_run_overrides(str(tmp_path / 'wd'))
    overrides['model']['neck'] = dict(type='MoCoV9Neck', _delete_=True)
    write_config(str(tmp_path / 'bad.py'), DEMO_CONFIG, overrides)
    proc = run_tool('tools/train.py', str(tmp_path / 'bad.py'), check=False)
    assert proc.returncode != 0
    assert 'MoCoV9Neck is not in the mmssl::model registry' in proc.stderr


def test_queue_length_not_a_multiple_of_the_global_batch(tmp_path, fashion_mnist_root):
    overrides = tiny_run_overrides(str(tmp_path / 'wd'), batch=6, images=12)
    write_config(str(tmp_path / 'bad_queue.py'), DEMO_CONFIG, overrides)
    proc = run_tool('tools/train.py', str(tmp_path / 'bad_queue.py'), check=False)
    assert proc.returncode != 0
    assert ('queue length 64 is not a multiple of the global batch 6; '
            'set model.dictionary.queue_length') in proc.stderr


@pytest.mark.slow
def test_test_py_runs_the_knn_evaluation(tmp_path, fashion_mnist_root):
    overrides = tiny_run_overrides(str(tmp_path / 'wd'))
    knn = dict(dataset=dict(bank=dict(indices=400), query=dict(indices=100)), num_workers=0)
    overrides['test_dataloader'] = knn
    write_config(str(tmp_path / 'cfg.py'), DEMO_CONFIG, overrides)
    run_tool('tools/train.py', str(tmp_path / 'cfg.py'))
    out = tmp_path / 'metrics.json'
    proc = run_tool('tools/test.py', str(tmp_path / 'cfg.py'), str(tmp_path / 'wd/epoch_1.pth'),
                    '--out', str(out))
    printed = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(printed) == {'knn/top1', 'knn/top5'}
    assert 10 < printed['knn/top1'] <= 100  # 10 balanced classes: chance is 10 %
    assert json.loads(out.read_text())['knn/top1'] == pytest.approx(printed['knn/top1'], abs=1e-3)
    missing = run_tool('tools/test.py', str(tmp_path / 'cfg.py'), str(tmp_path / 'x.pth'),
                       check=False)
    assert missing.returncode != 0 and 'checkpoint file not found' in missing.stderr
