# Multi-task self-supervision with a lasso layer combination (Doersch & Zisserman, ICCV
# 2017) on Fashion-MNIST, on a CPU: the MoCo v2 demo's ResNet-18 (CIFAR stem, width 16) as
# the shared trunk, its 4 stage outputs projected to 128 channels (1 x 1 conv, global
# pooling), and four tasks, each reading its own mix sum_l alpha[task, l] * feat_l with an
# L1 penalty on alpha: rotation (the image at 14 px, 4 rotations), relative position (the
# image at 56 px, 14-px patches, 4-px gaps, 2-px jitter), counting (14-px tiles and
# downsampled image) and exemplar (two random 14-px crops of the image, the triplet
# ranking loss against the other images of the batch), so that all 13 views of an image
# have one size (14 px).
# The paper's tasks are relative position, colorization, exemplar and motion segmentation;
# colorization is left out (Fashion-MNIST is grey) and so is motion segmentation (it needs
# videos): multitasklasso_resnet18_1xb16-coslr-2e_labelme-videos.py has all four.
# Every batch trains every task (schedule='mixed'; 'round_robin' trains one per step).
# The counting loss is weighted 0.02: with its BN'd 64-d counts it starts near 120, the
# classification losses near ln 4 and ln 8 (a 4-step run; the weight is ours).
# tools/analysis/plot_lasso_alpha.py WORK_DIR --out alpha.png draws the learned alpha.
_base_ = [
    '../_base_/datasets/fashion_mnist_pretext.py',
    '../_base_/datasets/fashion_mnist_knn.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

data_preprocessor = dict(num_views=13)
train_dataloader = dict(batch_size=128, dataset=dict(pipeline=[
    dict(type='MultiTaskViews', tasks=dict(
        rotation=[dict(type='Resize', scale=(14, 14)), dict(type='FourRotations')],
        relpos=[dict(type='Resize', scale=(56, 56)),
                dict(type='RelativeLocPatches', patch=14, gap=4, jitter=2)],
        counting=[dict(type='CountingViews', grayscale_prob=0.5)],
        exemplar=[dict(type='MultiView', num_views=2, transforms=[[
            dict(type='RandomResizedCrop', scale=14, crop_ratio_range=(0.3, 1.0)),
            dict(type='RandomFlip', prob=0.5)]])])),
    dict(type='PackInputs', algorithm_keys=['pretext_label']),
]))

model = dict(
    type='MultiTaskLasso',
    channels_last=True,
    backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=16, base_channels=16,
                  out_indices=(0, 1, 2, 3), norm_cfg=dict(type='BN'),
                  zero_init_residual=False),
    neck=dict(type='LassoCombination', in_channels=[16, 32, 64, 128], out_channels=128,
              num_tasks=4),
    tasks=dict(
        rotation=dict(type='ClassificationTask', num_views=4,
                      head=dict(type='PretextClsHead', in_channels=128, num_classes=4)),
        relpos=dict(type='ClassificationTask', num_views=2, views_per_group=2,
                    head=dict(type='PretextClsHead', in_channels=128, num_classes=8,
                              num_parts=2, hid_channels=[256])),
        counting=dict(type='CountingTask', num_views=5, loss_weight=0.02,
                      head=dict(type='CountingHead', in_channels=128, count_channels=64,
                                hid_channels=[256], with_bn=True, with_last_bn=True)),
        exemplar=dict(type='ExemplarTask', num_views=2,
                      head=dict(type='TripletRankingHead', margin=0.5))),
    l1_weight=0.01,
    schedule='mixed')

optim_wrapper = dict(optimizer=dict(lr=0.05, weight_decay=5e-4),
                     paramwise_cfg=dict(custom_keys={'neck.alpha': dict(decay_mult=0.0)}))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=1, by_epoch=True, begin=0, end=1,
                        convert_to_iter_based=True)]
train_cfg = dict(max_epochs=1)
auto_scale_lr = dict(base_batch_size=128)

custom_hooks = [
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, before_train=True),
]
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=1, max_keep_ckpts=1))
