"""tools/analysis/eval_motion_segmentation.py: IoU of "moving" against true masks."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from tools.analysis.eval_motion_segmentation import build_model, main

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs/motionsegmentation/'
                  'motionsegmentation_resnet18_1xb16-coslr-2e_labelme-videos.py')


def frames_and_masks(root, count=3, size=40):
    rng = np.random.default_rng(0)
    for t in range(count):
        (root / 'frames' / 'clip').mkdir(parents=True, exist_ok=True)
        (root / 'masks' / 'clip').mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / 'frames' / 'clip' / f'{t:06d}.jpg'),
                    rng.integers(0, 255, (size, size, 3), np.uint8))
        mask = np.zeros((size, size), np.uint8)
        mask[10:20, 10 + t:30 + t] = 255  # 200 of 1600 pixels move
        cv2.imwrite(str(root / 'masks' / 'clip' / f'{t:06d}.png'), mask)
    return ['--frames', str(root / 'frames'), '--masks', str(root / 'masks'), '--scale', '32']


def test_a_network_that_calls_everything_moving_has_full_recall(tmp_path):
    data = frames_and_masks(tmp_path)
    model = build_model(Config.fromfile(CONFIG), 'none')
    with torch.no_grad():  # the last conv says "moving" whatever it sees
        last = model.head.convs[-1]
        last.weight.zero_()
        last.bias.copy_(torch.tensor([-10.0, 10.0]))
    torch.save(dict(state_dict=model.state_dict()), tmp_path / 'moving.pth')
    result = main([CONFIG, str(tmp_path / 'moving.pth'), *data, '--batch-size', '2'])
    assert result['frames'] == 3
    assert result['recall'] == pytest.approx(100.0)
    assert result['precision'] == pytest.approx(100 * 200 / 1600)
    assert result['iou'] == pytest.approx(100 * 200 / 1600)
    assert result['pixel_acc'] == pytest.approx(100 * 200 / 1600)
    assert result['all_still_acc'] == pytest.approx(100 * 1400 / 1600)
    baseline = main([CONFIG, 'none', *data])  # the initialised network runs too
    assert 0 <= baseline['iou'] <= 100


def test_a_config_that_cannot_segment_is_refused(tmp_path):
    data = frames_and_masks(tmp_path, count=1)
    other = osp.join(REPO, 'configs/rotationpred/rotationpred_resnet18_1xb256-coslr-1e_fmnist.py')
    with pytest.raises(SystemExit, match='RotationPred cannot segment'):
        main([other, 'none', *data])


LABELME = '/usr/share/doc/labelme-examples/examples/instance_segmentation/data_dataset_coco'


@pytest.mark.skipif(not osp.isdir(LABELME), reason='Debian package labelme-examples missing')
def test_the_walk_through_from_photos_to_a_scored_network(tmp_path):
    """docs/motion_segmentation.md at a tiny size: videos, mined masks, the demo config
    trained by the real runner, and its score on held-out frames."""
    from mmengine.runner import Runner

    from tools.dataset_converters.make_moving_object_videos import main as make_videos
    from tools.dataset_converters.mine_motion_masks import main as mine
    make_videos(['--out', str(tmp_path / 'videos'), '--num-videos', '3', '--frames', '6',
                 '--size', '96'])
    make_videos(['--out', str(tmp_path / 'val'), '--num-videos', '1', '--frames', '4',
                 '--size', '96', '--seed', '1'])
    mine(['--videos', str(tmp_path / 'videos' / 'videos'), '--out', str(tmp_path / 'mined'),
          '--every', '1', '--gt-masks', str(tmp_path / 'videos' / 'gt_masks')])
    mine(['--videos', str(tmp_path / 'val' / 'videos'), '--out', str(tmp_path / 'val_mined'),
          '--every', '1', '--min-fraction', '0', '--max-fraction', '1'])
    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_dataloader.dataset.dataset.update(
        data_root=str(tmp_path / 'mined' / 'frames'), mask_root=str(tmp_path / 'mined' / 'masks'))
    cfg.train_dataloader.update(num_workers=0, batch_size=4)
    cfg.train_dataloader.dataset.times = 1
    cfg.train_cfg.max_epochs = 1
    cfg.param_scheduler[0].update(T_max=1, end=1)
    Runner.from_cfg(cfg).train()
    result = main([CONFIG, str(tmp_path / 'work' / 'epoch_1.pth'), '--frames',
                   str(tmp_path / 'val_mined' / 'frames'), '--masks',
                   str(tmp_path / 'val' / 'gt_masks')])
    assert result['frames'] == 3 and 0 < result['all_still_acc'] < 100
