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
