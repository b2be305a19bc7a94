import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

import mmengine.runner.checkpoint as mmengine_checkpoint
from tests._helpers import DEMO_CONFIG, tiny_run_overrides


def _runner(work_dir, **kwargs):
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict(tiny_run_overrides(work_dir, images=16, batch=8, **kwargs))
    cfg.default_hooks.checkpoint = dict(type='AtomicCheckpointHook', interval=1, by_epoch=False,
                                        max_keep_ckpts=1)
    return Runner.from_cfg(cfg)


def _pointer(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read()


def test_saves_rotate_and_the_pointer_names_the_newest(tmp_path, fashion_mnist_root):
    work_dir = str(tmp_path)
    _runner(work_dir).train()  # 2 iterations, a checkpoint after each, keep 1
    assert _pointer(work_dir) == osp.join(work_dir, 'iter_2.pth')
    assert sorted(f for f in os.listdir(work_dir) if f.endswith('.pth')) == ['iter_2.pth']
    assert not [f for f in os.listdir(work_dir) if f.endswith('.tmp')]
    state = torch.load(osp.join(work_dir, 'iter_2.pth'), weights_only=False)
    assert {'dictionary.queue.keys', 'dictionary.queue.ptr',
            'momentum_backbone.conv1.weight'} <= set(state['state_dict'])


def test_a_save_interrupted_midway_leaves_the_previous_checkpoint_and_pointer(
        tmp_path, fashion_mnist_root, monkeypatch):
    work_dir = str(tmp_path)
    real_save = mmengine_checkpoint.save_checkpoint
    calls = []

    def dying_save(checkpoint, filename, *args, **kwargs):
        calls.append(filename)
        if len(calls) == 2:  # the second save dies after writing part of the file
            with open(filename, 'wb') as f:
                f.write(b'\x80\x02half a checkpoint')
            raise OSError(28, 'No space left on device')
        return real_save(checkpoint, filename, *args, **kwargs)

    monkeypatch.setattr('mmengine.runner.runner.save_checkpoint', dying_save)
    with pytest.raises(OSError, match='No space left'):
        _runner(work_dir).train()
    # mmengine alone would have deleted iter_1.pth before writing iter_2.pth
    assert _pointer(work_dir) == osp.join(work_dir, 'iter_1.pth')
    state = torch.load(_pointer(work_dir), weights_only=False)
    assert state['meta']['iter'] == 1
    assert not osp.exists(osp.join(work_dir, 'iter_2.pth'))
