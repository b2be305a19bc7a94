# Multi-task self-supervision with a lasso layer combination (Doersch & Zisserman, ICCV
# 2017) with the paper's four tasks, on a CPU: relative position, colorization, exemplar and
# motion segmentation, all on the frames of the demo videos made from the labelme-examples
# photos (the two commands are in _base_/datasets/labelme_videos_pretext.py).
# The plumbing, not a useful representation. The MoCo v2 demo's ResNet-18 (CIFAR stem,
# width 16) as the trunk, its 4 stage outputs projected to 128 channels and pooled to
# 4 x 4 maps: colorization (the lightness in, an 8 x 8 map of ab bins out) and motion
# segmentation (an 8 x 8 map of moving / still) read their combined map, relative position
# (32-px patches of the frame at 128 px, 8-px gaps, 4-px jitter) and exemplar (two random
# crops, the triplet ranking loss over the batch) its spatial mean; all views are 32 px.
# Every task on every batch; L1 weight 0.01; SGD lr 0.05, cosine, 2 epochs over the frames
# seen 8 times each. tools/analysis/plot_lasso_alpha.py WORK_DIR --out alpha.png draws alpha.
_base_ = [
    '../_base_/datasets/labelme_videos_pretext.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

data_preprocessor = dict(num_views=6)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadMotionMask'),
    dict(type='MultiTaskViews', tasks=dict(
        relpos=[dict(type='Resize', scale=(128, 128)),
                dict(type='RelativeLocPatches', patch=32, gap=8, jitter=4)],
        exemplar=[dict(type='MultiView', num_views=2, transforms=[[
            dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.2, 1.0),
                 backend='pillow'),
            dict(type='RandomApply', transforms=[dict(
                type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
                hue=0.1)], prob=0.8),
            dict(type='RandomFlip', prob=0.5)]])],
        colorization=[dict(type='RandomResizedCrop', scale=32, backend='pillow'),
                      dict(type='RandomFlip', prob=0.5),
                      dict(type='ColorizationViews', target_size=8)],
        motion=[dict(type='MotionSegmentationViews', scale=32, target_size=8)])),
    dict(type='PackInputs', algorithm_keys=['pretext_label', 'ab_label', 'motion_label']),
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))

model = dict(
    type='MultiTaskLasso',
    backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=16, base_channels=16,
                  out_indices=(0, 1, 2, 3), norm_cfg=dict(type='BN'),
                  zero_init_residual=False),
    neck=dict(type='LassoCombination', in_channels=[16, 32, 64, 128], out_channels=128,
              num_tasks=4, out_size=4),
    tasks=dict(
        relpos=dict(type='ClassificationTask', num_views=2, views_per_group=2,
                    head=dict(type='PretextClsHead', in_channels=128, num_classes=8,
                              num_parts=2, hid_channels=[256])),
        exemplar=dict(type='ExemplarTask', num_views=2,
                      head=dict(type='TripletRankingHead', margin=0.5)),
        colorization=dict(type='ColorizationTask', num_views=1,
                          head=dict(type='ColorizationHead', in_channels=128, num_bins=484,
                                    hid_channels=64)),
        motion=dict(type='MotionSegmentationTask', num_views=1,
                    head=dict(type='DenseClsHead', in_channels=128, num_classes=2,
                              hid_channels=64, ignore_index=255))),
    l1_weight=0.01,
    schedule='mixed')

optim_wrapper = dict(optimizer=dict(lr=0.05, weight_decay=5e-4),
                     paramwise_cfg=dict(custom_keys={'neck.alpha': dict(decay_mult=0.0)}))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=2, by_epoch=True, begin=0, end=2,
                        convert_to_iter_based=True)]
train_cfg = dict(max_epochs=2)
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=1, max_keep_ckpts=1))
