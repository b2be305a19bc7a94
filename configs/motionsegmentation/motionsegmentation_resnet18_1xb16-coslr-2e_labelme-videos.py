# Motion segmentation on a CPU: the plumbing from videos to a trained network, not a useful
# representation, on the demo videos made from the labelme-examples photos and their mined
# motion masks (the two commands are in _base_/datasets/labelme_videos_pretext.py).
# Frames at 128 px, 64-px crops (a fifth to all of the frame), the MoCo v2 demo's ResNet-18
# (CIFAR stem, width 16) up to stage 3 (16 x 16 map), a 2-class DenseClsHead on a 16 x 16
# target; SGD lr 0.05, cosine, 2 epochs over the frames seen 8 times each (about 40 s).
# On held-out videos it reaches an IoU of 31 for "moving" (chance: 5); the commands and
# figures are in docs/motion_segmentation.md.
_base_ = [
    '../_base_/datasets/labelme_videos_pretext.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

data_preprocessor = dict(num_views=1)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadMotionMask'),
    dict(type='MotionSegmentationViews', scale=64, target_size=16),
    dict(type='PackInputs', algorithm_keys=['motion_label']),
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))

model = dict(
    type='MotionSegmentation',
    backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=16, base_channels=16,
                  out_indices=(2,), norm_cfg=dict(type='BN'), zero_init_residual=False),
    head=dict(type='DenseClsHead', in_channels=64, num_classes=2, hid_channels=64,
              ignore_index=255))

optim_wrapper = dict(optimizer=dict(lr=0.05, weight_decay=5e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=2, by_epoch=True, begin=0, end=2,
                        convert_to_iter_based=True)]
train_cfg = dict(max_epochs=2)
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=1, max_keep_ckpts=1))
