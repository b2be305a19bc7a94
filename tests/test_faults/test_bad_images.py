"""The skip policy in a real run: broken files among good ones are skipped (mmengine's
dataset draws other samples), listed at each epoch end, and above the threshold the run
stops with an error naming the list."""
import cv2
import numpy as np
import pytest
from mmengine.config import Config, ConfigDict
from mmengine.runner import Runner

from mmssl.engine import TooManyBadImagesError
from tests._helpers import DEMO_CONFIG, tiny_run_overrides


def _folder(root, good=14, bad=2):
    rng = np.random.default_rng(0)
    for i in range(good):
        cv2.imwrite(str(root / f'good{i}.jpg'), rng.integers(0, 255, (32, 32, 3), np.uint8))
    (root / 'empty.jpg').write_bytes(b'')
    (root / 'truncated.jpg').write_bytes((root / 'good0.jpg').read_bytes()[:100])
    return sorted(str(p) for p in root.glob('*.jpg'))[:bad + good]


def _runner(tmp_path, max_skipped, num_workers=0, epochs=2):
    data = tmp_path / 'images'
    data.mkdir()
    _folder(data)
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict(tiny_run_overrides(str(tmp_path / 'work'), batch=8, epochs=epochs))
    cfg.train_dataloader.num_workers = num_workers
    cfg.train_dataloader.dataset = ConfigDict(
        type='ImageFolder', data_root=str(data),
        pipeline=[dict(type='LoadImageFromFile', on_error='skip'), dict(type='PackInputs')])
    cfg.custom_hooks.append(dict(type='BadImageReportHook', max_skipped=max_skipped,
                                 interval=1))
    cfg.log_level = 'INFO'
    return Runner.from_cfg(cfg)


def _skipped(runner):
    with open(f'{runner.log_dir}/skipped_images.txt') as f:
        return sorted({line.split('\t')[0].rsplit('/', 1)[-1] for line in f})


# With 2 workers the skips happen in the loader processes, which append to the run's list
# (one epoch is enough to show it).
@pytest.mark.parametrize('num_workers, epochs', [(0, 2), (2, 1)])
def test_bad_files_are_skipped_and_listed(tmp_path, fashion_mnist_root, num_workers, epochs):
    runner = _runner(tmp_path, max_skipped=100, num_workers=num_workers, epochs=epochs)
    runner.train()  # 16 files, 2 bad: each epoch still yields 2 full batches of 8
    assert _skipped(runner) == ['empty.jpg', 'truncated.jpg']
    with open(f'{runner.log_dir}/{runner.timestamp}.log') as f:
        log = f.read()
    assert 'images skipped' in log and 'empty.jpg' in log


def test_above_the_threshold_training_stops_naming_the_list(tmp_path, fashion_mnist_root):
    runner = _runner(tmp_path, max_skipped=1)
    with pytest.raises(TooManyBadImagesError, match=r'more than max_skipped=1 .*'
                                                    r'skipped_images\.txt'):
        runner.train()
