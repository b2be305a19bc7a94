# Multi-task self-supervision with a lasso layer combination (Doersch & Zisserman, ICCV
# 2017) on ImageNet. From the paper: one shared ResNet trunk, one head per task, each head
# reading sum_l alpha[task, l] * feat_l over the trunk's block outputs with an L1 penalty
# on alpha, so that each task picks a sparse set of layers; the tasks relative position
# (the paper's 96-px patches, 48-px gaps, 7-px jitter), colorization (L in, quantised ab
# out, here a 24 x 24 target of a 96-px crop) and exemplar (two 96-px random crops with
# colour jitter, the triplet ranking loss over the batch); the paper's input harmonisation:
# relative position's patches are prepared as colorization's input (the Lab lightness,
# repeated over 3 channels; the `Lightness` transform) instead of by colour dropping.
# The baseline the paper compares the lasso with, a plain shared trunk (every head on the
# last block, no lasso): multitasklasso_resnet50-sharedtrunk_8xb32-steplr-70e_in1k.py.
# Not the paper's setting: ResNet-50 instead of ResNet-101; no motion segmentation (it
# needs videos: multitasklasso_resnet50_8xb32-steplr-70e_in1k-videos.py adds it); rotation
# and counting added. The 4 stage
# outputs are projected to 2048 channels and pooled to 6 x 6 maps (1 x 1 conv, adaptive
# average pooling): colorization reads its combined map, the other tasks its spatial
# mean; every task on every batch; all views are 96 px. Optimiser and schedule: the
# ResNet-50 step schedule of the pretext tasks, lr 0.1 for 256 images, L1 weight 0.01, the
# counting loss weighted 1e-3 (it grows with the 1000 counts: about 2 per dimension at the
# start); ours, untested at this scale.
_base_ = [
    '../_base_/datasets/imagenet_pretext.py',
    '../_base_/schedules/sgd_steplr_70e.py',
    '../_base_/default_runtime.py',
]

data_preprocessor = dict(num_views=14)
train_pipeline = [
    dict(type='LoadImageFromFile'),
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
                      dict(type='ColorizationViews', target_size=24)])),
    dict(type='PackInputs', algorithm_keys=['pretext_label', 'ab_label']),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))

model = dict(
    type='MultiTaskLasso',
    backbone=dict(type='ResNet', depth=50, out_indices=(0, 1, 2, 3),
                  norm_cfg=dict(type='SyncBN')),
    neck=dict(type='LassoCombination', in_channels=[256, 512, 1024, 2048],
              out_channels=2048, num_tasks=5, out_size=6),
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
                          head=dict(type='ColorizationHead', in_channels=2048, num_bins=484))),
    l1_weight=0.01,
    schedule='mixed')

optim_wrapper = dict(optimizer=dict(lr=0.1),
                     paramwise_cfg=dict(custom_keys={'neck.alpha': dict(decay_mult=0.0)}))
auto_scale_lr = dict(base_batch_size=256)
