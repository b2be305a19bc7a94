"""mmssl/apis/runner.py's --vis-backend, through the mains of tools/train.py and
tools/test.py."""
import glob
import importlib.util
import os.path as osp
import sys

import pytest

from mmssl.apis.runner import load_config
from tests._helpers import DEMO_CONFIG, REPO_ROOT, tiny_run_overrides, write_config
from tools.test import main as run_test_py
from tools.train import main as run_train_py


def tensorboard_log(work_dir):
    """The scalars of the one TensorBoard event file under ``work_dir``."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = glob.glob(osp.join(work_dir, '*', 'vis_data', 'events.out.tfevents.*'))
    assert len(events) == 1, events
    log = EventAccumulator(events[0])
    log.Reload()
    return log


def test_tensorboard_backend_gets_the_training_scalars(tmp_path, fashion_mnist_root):
    work_dir = tmp_path / 'wd'
    config = write_config(str(tmp_path / 'cfg.py'), DEMO_CONFIG,
                          tiny_run_overrides(str(work_dir), images=16, batch=8))  # 2 iters
    run_train_py([config, '--vis-backend', 'tensorboard'])
    log = tensorboard_log(work_dir)
    assert [event.step for event in log.Scalars('loss')] == [1, 2]
    # the JSON scalars are still written beside it
    assert glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))


def test_tensorboard_backend_gets_the_test_metrics(tmp_path, fashion_mnist_root):
    overrides = tiny_run_overrides(str(tmp_path / 'wd'))
    overrides['test_dataloader'] = dict(
        dataset=dict(bank=dict(indices=40), query=dict(indices=20)), num_workers=0)
    config = write_config(str(tmp_path / 'cfg.py'), DEMO_CONFIG, overrides)
    metrics = run_test_py([config, 'none', '--vis-backend', 'tensorboard'])
    logged = tensorboard_log(tmp_path / 'wd').Scalars('knn/top1')
    assert [event.value for event in logged] == [pytest.approx(metrics['knn/top1'])]


@pytest.mark.skipif(importlib.util.find_spec('wandb') is not None, reason='wandb installed')
def test_a_missing_backend_package_is_named_before_the_run(tmp_path):
    with pytest.raises(ImportError, match='--vis-backend wandb needs the wandb package, '
                                          'which is not installed: pip install wandb'):
        run_train_py([DEMO_CONFIG, '--work-dir', str(tmp_path / 'wd'), '--vis-backend', 'wandb'])
    assert not (tmp_path / 'wd').exists()  # nothing started


def test_test_py_amp_autocasts_the_knn_pass_of_a_config_without_optimizer(
        tmp_path, fashion_mnist_root, monkeypatch):
    import torch

    import tools.test
    config = write_config(str(tmp_path / 'cfg.py'), osp.join(
                              REPO_ROOT, 'configs/benchmarks/classification/knn_fmnist.py'),
                          dict(work_dir=str(tmp_path / 'wd'), test_dataloader=dict(
                              dataset=dict(bank=dict(indices=40), query=dict(indices=20)),
                              num_workers=0)))
    autocast = []
    build = tools.test.build_runner

    def build_and_watch(cfg):  # the real runner; its backbone records whether autocast is on
        runner = build(cfg)
        runner.model.backbone.register_forward_hook(
            lambda *_: autocast.append(torch.is_autocast_enabled('cpu')))
        return runner
    monkeypatch.setattr(tools.test, 'build_runner', build_and_watch)
    metrics = run_test_py([config, 'none', '--amp'])
    assert 0 <= metrics['knn/top1'] <= 100 and autocast and all(autocast)


MMDET_CONFIG = osp.join(REPO_ROOT, 'configs/benchmarks/mmdetection/labelme',
                        'mask-rcnn_r18_fpn_1xb3-40i_labelme.py')


def test_an_mmdet_config_without_compiled_ops_names_the_set_up_command(tmp_path, monkeypatch):
    """The demo's mmcv has no compiled ops: an mmdet config stops before the run, saying
    how to get them (mmdet itself would fail later on "No module named 'mmcv._ext'")."""
    monkeypatch.setitem(sys.modules, 'mmcv.ops', None)  # `import mmcv.ops` raises ImportError
    with pytest.raises(ImportError, match=r"builds mmdet models, which need mmcv's compiled ops"
                                          r'.*MMSSL_WITH_OPS=1 bash tools/setup_env.sh') as error:
        run_train_py([MMDET_CONFIG, '--work-dir', str(tmp_path / 'wd')])
    assert MMDET_CONFIG in str(error.value)
    assert not (tmp_path / 'wd').exists()  # nothing started
    load_config(DEMO_CONFIG)  # an mmssl config does not need them
