"""Fault injection: a real training process is SIGKILLed at a random iteration (or while a
checkpoint is being written), resumed with --resume, and must end bitwise equal to an
uninterrupted run with the same seed: weights, optimizer, queues, memory bank, EMA teacher
and target (DINO, BYOL), DINO's centre, SwAV's feature queue and frozen prototypes, the
device augmentation's generator, the sampler's place in the epoch (also with 2 loader
workers)."""
import os
import os.path as osp
import random
import signal
import subprocess
import sys

import pytest
import torch

from tests._helpers import REPO_ROOT, assert_resumed, write_config

ITERS_PER_EPOCH, EPOCHS, SAVE_EVERY = 4, 2, 3  # checkpoints at 3, 6 and 8: some mid-epoch
FMNIST = 'configs/{}'
ALGORITHMS = {
    'moco-queue': ('mocov2/mocov2_resnet18_1xb256-coslr-2e_fmnist.py',
                   dict(model=dict(dictionary=dict(queue_length=64), bn_splits=1)), []),
    'npid-memory-bank': ('mocov2/mocov2_resnet18-membank_1xb256-coslr-2e_fmnist.py',
                         dict(model=dict(dictionary=dict(size=32, num_negatives=16),
                                         bn_splits=1)), []),
    'dino-teacher-centre': ('dino/dino_resnet18-mcrop2x24-4x12_1xb256-coslr-2e_fmnist.py',
                            dict(model=dict(freeze_last_layer_iters=2)), []),
    # the feature queue starts filling at epoch 1, prototypes frozen for 2 iterations
    'swav-queue-prototypes': ('swav/swav_resnet18-mcrop2x24-6x12_1xb256-coslr-2e_fmnist.py',
                              dict(model=dict(queue_length=32, queue_start_epoch=1,
                                              freeze_prototypes_iters=2)), []),
    # the EMA target network and the cosine position of its momentum
    'byol-ema-target': ('byol/byol_resnet18_1xb256-coslr-2e_fmnist.py', {}, []),
    # two loader worker processes: they only decode (the views are made by the data
    # preprocessor's seeded generator), so the resumed run sees the same batches
    'moco-queue-2-workers': ('mocov2/mocov2_resnet18_1xb256-coslr-2e_fmnist.py',
                             dict(model=dict(dictionary=dict(queue_length=64), bn_splits=1),
                                  train_dataloader=dict(num_workers=2)), []),
}


def _config(tmp_path, name: str, algorithm: str, kill: dict | None = None) -> str:
    base, algorithm_overrides, hooks = ALGORITHMS[algorithm]
    overrides = dict(algorithm_overrides)
    loader = dict(dataset=dict(indices=ITERS_PER_EPOCH * 8), batch_size=8, num_workers=0,
                  persistent_workers=False)
    loader.update(overrides.pop('train_dataloader', {}))
    overrides.update(
        work_dir=str(tmp_path / name), experiment_name=name,
        train_dataloader=loader,
        train_cfg=dict(max_epochs=EPOCHS),
        param_scheduler=[dict(type='CosineAnnealingLR', T_max=EPOCHS, by_epoch=True, begin=0,
                              end=EPOCHS, convert_to_iter_based=True)],
        custom_hooks=hooks + ([dict(type='KillAtIterationHook', **kill)] if kill else []),
        default_hooks=dict(logger=dict(interval=1),
                           checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False,
                                           interval=SAVE_EVERY, max_keep_ckpts=2)),
        randomness=dict(seed=0, deterministic=True), log_level='WARNING')
    if kill:
        overrides['custom_imports'] = dict(imports=['tests._kill_hook'],
                                           allow_failed_imports=False)
    return write_config(str(tmp_path / f'{name}.py'), osp.join(REPO_ROOT, FMNIST.format(base)),
                        overrides)


def _train(config: str, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, 'tools/train.py', config, *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600)


def _final_state(work_dir) -> dict:
    return torch.load(osp.join(work_dir, f'iter_{ITERS_PER_EPOCH * EPOCHS}.pth'),
                      map_location='cpu', weights_only=False)


def _assert_same(ref: dict, got: dict) -> None:
    assert got['meta']['iter'] == ref['meta']['iter'] == ITERS_PER_EPOCH * EPOCHS
    assert ref['state_dict'].keys() == got['state_dict'].keys()
    for key, value in ref['state_dict'].items():
        assert torch.equal(value, got['state_dict'][key]), key
    ref_opt, got_opt = ref['optimizer']['state'], got['optimizer']['state']
    assert ref_opt.keys() == got_opt.keys()
    for index, state in ref_opt.items():
        for name, value in state.items():
            assert torch.equal(value, got_opt[index][name]), (index, name)


# One random kill point per algorithm (seeded: the test is repeatable), after the first
# checkpoint and not on one, so the resume starts from an earlier, often mid-epoch, one.
_KILL_POINTS = random.Random(0)


@pytest.mark.slow
@pytest.mark.parametrize('algorithm', list(ALGORITHMS))
def test_killed_at_a_random_iteration_resumes_to_the_same_final_state(
        algorithm, tmp_path, fashion_mnist_root):
    iteration = _KILL_POINTS.choice([i for i in range(SAVE_EVERY + 1, ITERS_PER_EPOCH * EPOCHS)
                                     if i % SAVE_EVERY])
    proc = _train(_config(tmp_path, 'full', algorithm))
    assert proc.returncode == 0, proc.stderr[-3000:]

    killed = _config(tmp_path, 'killed', algorithm, kill=dict(iteration=iteration))
    proc = _train(killed)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    resumed = _config(tmp_path, 'killed', algorithm)  # the same run, without the kill
    proc = _train(resumed, '--resume')
    assert proc.returncode == 0, proc.stderr[-3000:]
    # the resumed process went on from the last checkpoint before the kill
    assert_resumed(tmp_path / 'killed', iteration, iteration // SAVE_EVERY * SAVE_EVERY,
                   ITERS_PER_EPOCH * EPOCHS)
    _assert_same(_final_state(tmp_path / 'full'), _final_state(tmp_path / 'killed'))


@pytest.mark.slow
def test_killed_while_writing_a_checkpoint_resumes_from_the_previous_one(
        tmp_path, fashion_mnist_root):
    proc = _train(_config(tmp_path, 'full', 'moco-queue'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    killed = _config(tmp_path, 'killed', 'moco-queue',
                     kill=dict(iteration=2 * SAVE_EVERY, during_save=True))
    assert _train(killed).returncode == -signal.SIGKILL
    work_dir = tmp_path / 'killed'
    with open(work_dir / 'last_checkpoint') as f:  # still the complete one of iteration 3
        assert f.read() == str(work_dir / f'iter_{SAVE_EVERY}.pth')
    assert not osp.exists(work_dir / f'iter_{2 * SAVE_EVERY}.pth')
    assert [name for name in os.listdir(work_dir) if name.endswith('.tmp')]  # the half file
    proc = _train(_config(tmp_path, 'killed', 'moco-queue'), '--resume')
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert_resumed(work_dir, 2 * SAVE_EVERY, SAVE_EVERY, ITERS_PER_EPOCH * EPOCHS)
    _assert_same(_final_state(tmp_path / 'full'), _final_state(work_dir))
