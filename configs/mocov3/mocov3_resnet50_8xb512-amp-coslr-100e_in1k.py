# MoCo v3 (Chen, Xie & He 2021) with ResNet-50, ImageNet-1k, 8 GPUs x 512 = 4096, 100
# epochs, mixed precision: LARS lr 0.6 x batch/256 = 9.6, wd 1e-6 (biases and BN left out
# of it and of LARS's adaptation), 10 warm-up epochs then cosine; tau 1.0; m 0.99 -> 1;
# BYOL's augmentation. Official code: 68.9 % linear top-1 at 100 epochs.
_base_ = [
    '../_base_/models/mocov3_resnet50.py',
    '../_base_/datasets/byol_imagenet_bs32.py',
    '../_base_/datasets/imagenet_knn.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=512)

optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(type='LARS', lr=9.6, momentum=0.9, weight_decay=1e-6),
    paramwise_cfg=dict(custom_keys={
        'bn': dict(decay_mult=0, lars_exclude=True),
        'bias': dict(decay_mult=0, lars_exclude=True),
        'downsample.1': dict(decay_mult=0, lars_exclude=True),
    }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=90, by_epoch=True, begin=10, end=100,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100)
auto_scale_lr = dict(base_batch_size=4096)
