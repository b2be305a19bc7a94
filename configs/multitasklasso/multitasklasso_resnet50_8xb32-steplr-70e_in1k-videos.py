# Multi-task self-supervision with a lasso layer combination (Doersch & Zisserman, ICCV
# 2017) on ImageNet and videos: multitasklasso_resnet50_8xb32-steplr-70e_in1k.py plus the
# paper's fourth task, motion segmentation (Pathak et al. 2017): one frame in, which pixels
# move out (a 2-class DenseClsHead on the task's 6 x 6 combined map, upsampled to a 24 x 24
# target of a 96-px crop). The paper fed each task from its own source (ImageNet, and
# YouTube-8M frames for motion); here one loader mixes them: the ImageNet images and the
# frames mined from the user's videos, concatenated, every task on every batch. Every task
# reads frames too; the motion task's loss counts only frames (a still image's pixels are
# ignored, 255), so its share of a batch is the frames' share of the data: raise
# `frame_repeats` to give it more.
# Data: mine the videos first (a folder of .mp4/.avi/... files):
#   python tools/dataset_converters/mine_motion_masks.py --videos data/videos \
#       --out data/videos_mined --every 5 --max-side 320
# Everything else (tasks, heads, optimiser, schedule, what is ours): as the in1k config.
_base_ = [
    '../_base_/datasets/imagenet_pretext.py',
    '../_base_/schedules/sgd_steplr_70e.py',
    '../_base_/default_runtime.py',
]

data_root = 'data/imagenet/train/'
video_root = 'data/videos_mined/'
frame_repeats = 1

data_preprocessor = dict(num_views=15)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadMotionMask'),  # frames only: ImageNet images have no mask_path
    dict(type='MultiTaskViews', tasks=dict(
        rotation=[dict(type='RandomResizedCrop', scale=96, backend='pillow'),
                  dict(type='RandomFlip', prob=0.5), dict(type='FourRotations')],
        relpos=[dict(type='ResizeEdge', scale=400, edge='short'),
                dict(type='RandomCrop', crop_size=400),
                dict(type='Lightness'),  # harmonised with colorization's input
                dict(type='RelativeLocPatches', patch=96, gap=48, jitter=7)],
        counting=[dict(type='ResizeEdge', scale=224, edge='short'),
                  dict(type='RandomCrop', crop_size=192),
                  dict(type='CountingViews', grayscale_prob=0.5)],
        exemplar=[dict(type='MultiView', num_views=2, transforms=[[
            dict(type='RandomResizedCrop', scale=96, crop_ratio_range=(0.2, 1.0),
                 backend='pillow'),
            dict(type='RandomApply', transforms=[dict(
                type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
                hue=0.1)], prob=0.8),
            dict(type='RandomFlip', prob=0.5)]])],
        colorization=[dict(type='RandomResizedCrop', scale=96, backend='pillow'),
                      dict(type='RandomFlip', prob=0.5),
                      dict(type='ColorizationViews', target_size=24)],
        motion=[dict(type='MotionSegmentationViews', scale=96, target_size=24)])),
    dict(type='PackInputs', algorithm_keys=['pretext_label', 'ab_label', 'motion_label']),
]
train_dataloader = dict(batch_size=32, dataset=dict(
    _delete_=True, type='ConcatDataset', datasets=[
        dict(type='ImageFolder', data_root=data_root, pipeline=train_pipeline),
        dict(type='RepeatDataset', times=frame_repeats, dataset=dict(
            type='ImageFolder', data_root=video_root + 'frames', mask_root=video_root + 'masks',
            pipeline=train_pipeline))]))

model = dict(
    type='MultiTaskLasso',
    backbone=dict(type='ResNet', depth=50, out_indices=(0, 1, 2, 3),
                  norm_cfg=dict(type='SyncBN')),
    neck=dict(type='LassoCombination', in_channels=[256, 512, 1024, 2048],
              out_channels=2048, num_tasks=6, out_size=6),
    tasks=dict(
        rotation=dict(type='ClassificationTask', num_views=4,
                      head=dict(type='PretextClsHead', in_channels=2048, num_classes=4)),
        relpos=dict(type='ClassificationTask', num_views=2, views_per_group=2,
                    head=dict(type='PretextClsHead', in_channels=2048, num_classes=8,
                              num_parts=2, hid_channels=[4096])),
        counting=dict(type='CountingTask', num_views=5, loss_weight=1e-3,
                      head=dict(type='CountingHead', in_channels=2048, count_channels=1000,
                                hid_channels=[4096], with_bn=True, with_last_bn=True)),
        exemplar=dict(type='ExemplarTask', num_views=2,
                      head=dict(type='TripletRankingHead', margin=0.5)),
        colorization=dict(type='ColorizationTask', num_views=1,
                          head=dict(type='ColorizationHead', in_channels=2048, num_bins=484)),
        motion=dict(type='MotionSegmentationTask', num_views=1,
                    head=dict(type='DenseClsHead', in_channels=2048, num_classes=2,
                              ignore_index=255))),
    l1_weight=0.01,
    schedule='mixed')

optim_wrapper = dict(optimizer=dict(lr=0.1),
                     paramwise_cfg=dict(custom_keys={'neck.alpha': dict(decay_mult=0.0)}))
auto_scale_lr = dict(base_batch_size=256)
