# Motion segmentation (Pathak, Girshick, Dollar, Darrell & Hariharan, CVPR 2017, "Learning
# features by watching objects move") with ResNet-50, on frames of the user's videos.
# From the paper: one frame in, for every pixel "moves / does not move" out, cross-entropy
# per pixel; the targets come from an unsupervised motion segmentation of the video, and
# frames with no or too much motion are dropped.
# Not from the paper: the targets are residual optical flow (Farneback, minus the frame's
# median flow; tools/dataset_converters/mine_motion_masks.py) instead of uNLC; AlexNet
# becomes ResNet-50 up to stage 3 (14 x 14 at 224 px) with a 3 x 3 conv + BN + ReLU and a
# 1 x 1 conv to 2 classes, upsampled to a 28 x 28 target; the ResNet-50 step schedule of the
# other pretext tasks, lr 0.1 for 256 images.
# Data: mine the videos first (a folder of .mp4/.avi/... files):
#   python tools/dataset_converters/mine_motion_masks.py --videos data/videos \
#       --out data/videos_mined --every 5 --max-side 320
# which writes data/videos_mined/frames/<video>/<t>.jpg and masks/<video>/<t>.png.
_base_ = [
    '../_base_/datasets/imagenet_pretext.py',
    '../_base_/schedules/sgd_steplr_70e.py',
    '../_base_/default_runtime.py',
]
video_root = 'data/videos_mined/'

data_preprocessor = dict(num_views=1)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadMotionMask'),
    dict(type='MotionSegmentationViews', scale=224, target_size=28),
    dict(type='PackInputs', algorithm_keys=['motion_label']),
]
train_dataloader = dict(batch_size=32, dataset=dict(
    data_root=video_root + 'frames', mask_root=video_root + 'masks', pipeline=train_pipeline))

model = dict(
    type='MotionSegmentation',
    backbone=dict(type='ResNet', depth=50, out_indices=(2,), norm_cfg=dict(type='SyncBN')),
    head=dict(type='DenseClsHead', in_channels=1024, num_classes=2, hid_channels=512,
              ignore_index=255))

optim_wrapper = dict(optimizer=dict(lr=0.1))
auto_scale_lr = dict(base_batch_size=256)
