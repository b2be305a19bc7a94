"""A real full disk: the work dir on a size-limited tmpfs that holds one checkpoint but not
two. The second save fails with ENOSPC; the first checkpoint and the pointer to it are
intact, and a resume from it on a disk with room finishes the run. (Needs the right to
mount a tmpfs, as root on Linux; skipped where that is refused.)"""
import os
import os.path as osp
import shutil
import subprocess
import uuid

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from tests._helpers import DEMO_CONFIG, assert_resumed, tiny_run_overrides


def _runner(work_dir, resume=False):
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict(tiny_run_overrides(work_dir, images=16, batch=8))  # 2 iterations
    cfg.default_hooks.checkpoint = dict(type='AtomicCheckpointHook', interval=1, by_epoch=False,
                                        max_keep_ckpts=1)
    cfg.resume = resume
    return Runner.from_cfg(cfg)


@pytest.fixture
def small_disk(tmp_path):
    """A function that mounts a tmpfs of a given size (bytes) and returns its path."""
    mounts = []

    def mount(size: int) -> str:
        path = tmp_path / f'disk-{uuid.uuid4().hex[:8]}'
        path.mkdir()
        proc = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size}', 'tmpfs',
                               str(path)], capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f'cannot mount a tmpfs here: {proc.stderr.strip()}')
        mounts.append(path)
        return str(path)

    yield mount
    for path in mounts:
        subprocess.run(['umount', '-l', str(path)], capture_output=True)


@pytest.mark.slow
def test_a_full_disk_during_a_save_keeps_the_previous_checkpoint(
        tmp_path, small_disk, fashion_mnist_root):
    probe = str(tmp_path / 'probe')  # one checkpoint's size, on a disk with room
    _runner(probe).train()
    size = os.path.getsize(osp.join(probe, 'iter_2.pth'))

    disk = small_disk(int(size * 1.5))  # room for the first checkpoint and the logs only
    with pytest.raises(OSError) as error:
        _runner(disk).train()
    message = str(error.value)
    assert "No space left on device" in message and "iter_2.pth" in message
    assert f"previous checkpoint ({osp.join(disk, 'iter_1.pth')})" in message
    with open(osp.join(disk, 'last_checkpoint')) as f:
        pointer = f.read()
    assert pointer == osp.join(disk, 'iter_1.pth')
    state = torch.load(pointer, map_location='cpu', weights_only=False)  # complete
    assert state['meta']['iter'] == 1 and 'dictionary.queue.keys' in state['state_dict']
    assert not osp.exists(osp.join(disk, 'iter_2.pth'))
    assert not [f for f in os.listdir(disk) if f.endswith('.tmp')]  # no half file left

    roomy = str(tmp_path / 'roomy')  # the user frees space (here: moves the run)
    shutil.copytree(disk, roomy)
    with open(osp.join(roomy, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(roomy, 'iter_1.pth'))
    resumed = _runner(roomy, resume=True)
    resumed.train()
    assert resumed.iter == 2 and osp.isfile(osp.join(roomy, 'iter_2.pth'))
    # the failed run logged iterations 1 and 2 (its save failed); the resumed one only 2
    assert_resumed(roomy, 2, 1, 2)
