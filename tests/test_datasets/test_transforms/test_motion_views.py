"""Motion segmentation's data: ImageFolder(mask_root), LoadMotionMask and
MotionSegmentationViews (the mask follows the frame's crop and flip)."""
import cv2
import numpy as np
import pytest
from mmcv.transforms import Compose

from mmssl.datasets import ImageFolder
from mmssl.registry import TRANSFORMS


def frame_and_mask(h=40, w=60):
    """A frame whose red channel is 255 exactly where its mask is 1 (an off-centre box)."""
    mask = np.zeros((h, w), np.uint8)
    mask[8:30, 30:55] = 1
    img = np.random.default_rng(0).integers(0, 100, (h, w, 3), np.uint8)
    img[..., 2] = mask * 255
    return img, mask


def test_the_label_is_the_mask_under_the_views_crop_and_flip():
    img, mask = frame_and_mask()
    np.random.seed(0)
    views = TRANSFORMS.build(dict(type='MotionSegmentationViews', scale=32, target_size=32,
                                  crop_ratio_range=(0.2, 1.0)))
    agreement, flipped = [], 0
    for _ in range(40):
        out = views(dict(img=img.copy(), gt_motion=mask.copy()))
        (view,), label = out['img'], out['motion_label']
        assert view.shape == (32, 32, 3) and label.shape == (32, 32)
        assert label.dtype == np.int64 and set(np.unique(label)) <= {0, 1}
        agreement.append(((view[..., 2] > 127) == (label == 1)).mean())
        flipped += bool(label[:, :16].sum() > label[:, 16:].sum())  # the box is on the right
    assert min(agreement) > 0.9  # the image and its mask got the same crop and flip
    assert 5 < flipped < 35  # flips happen about half the time
    # whole frame, no flip: the label is the mask resized
    whole = TRANSFORMS.build(dict(type='MotionSegmentationViews', scale=30, target_size=20,
                                  crop_ratio_range=(1.0, 1.0), aspect_ratio_range=(1.5, 1.5),
                                  flip_prob=0.0))
    label = whole(dict(img=img.copy(), gt_motion=mask.copy()))['motion_label']
    expected = cv2.resize(mask.astype(np.float32), (20, 20), interpolation=cv2.INTER_AREA) > 0.5
    np.testing.assert_array_equal(label, expected)
    # a still image: every pixel unknown
    out = views(dict(img=img.copy()))
    assert (out['motion_label'] == 255).all() and out['img'][0].shape == (32, 32, 3)
    with pytest.raises(ValueError, match='gt_motion is'):
        views(dict(img=img, gt_motion=mask[:10], img_path='f.jpg'))


def test_image_folder_pairs_frames_with_masks_and_load_motion_mask_reads_them(tmp_path):
    img, mask = frame_and_mask()
    (tmp_path / 'frames' / 'clip').mkdir(parents=True)
    (tmp_path / 'masks' / 'clip').mkdir(parents=True)
    assert cv2.imwrite(str(tmp_path / 'frames' / 'clip' / '000005.jpg'), img)
    assert cv2.imwrite(str(tmp_path / 'masks' / 'clip' / '000005.png'), mask * 255)
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadMotionMask'),
                dict(type='MotionSegmentationViews', scale=16, target_size=8),
                dict(type='PackInputs', algorithm_keys=['motion_label'])]
    dataset = ImageFolder(data_root=str(tmp_path / 'frames'),
                          mask_root=str(tmp_path / 'masks'), pipeline=pipeline)
    assert dataset.get_data_info(0)['mask_path'] == str(tmp_path / 'masks/clip/000005.png')
    sample = dataset[0]['data_samples']
    assert sample.motion_label.shape == (8, 8) and sample.motion_label.max() == 1
    load = Compose([dict(type='LoadImageFromFile'), dict(type='LoadMotionMask')])
    out = load(dict(img_path=str(tmp_path / 'frames/clip/000005.jpg'),
                    mask_path=str(tmp_path / 'masks/clip/000005.png')))
    np.testing.assert_array_equal(out['gt_motion'], mask)
    assert 'gt_motion' not in load(dict(img_path=str(tmp_path / 'frames/clip/000005.jpg')))
    with pytest.raises(FileNotFoundError, match='motion mask file not found: .*nope.png'):
        load(dict(img_path=str(tmp_path / 'frames/clip/000005.jpg'),
                  mask_path=str(tmp_path / 'nope.png')))
    assert cv2.imwrite(str(tmp_path / 'small.png'), mask[:20] * 255)
    with pytest.raises(ValueError, match='small.png is 60x20 but its frame .*000005.jpg is 60x40'):
        load(dict(img_path=str(tmp_path / 'frames/clip/000005.jpg'),
                  mask_path=str(tmp_path / 'small.png')))
    with pytest.raises(FileNotFoundError, match="mask_root '.*absent' is not a folder"):
        ImageFolder(data_root=str(tmp_path / 'frames'), mask_root=str(tmp_path / 'absent'))
