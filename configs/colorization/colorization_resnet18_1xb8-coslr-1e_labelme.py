# Colorization on a CPU: Fashion-MNIST is grey (every ab target would be the same bin), so
# the demo uses the three colour photos of Debian's labelme-examples (apt), each seen 64
# times per epoch as 64-px random crops: the lightness in, the 16 x 16 map of ab bins out,
# through the MoCo v2 demo's ResNet-18 (CIFAR stem, width 16) up to stage 3 (16 x 16 map).
# It shows the plumbing, not a useful representation.
_base_ = [
    '../_base_/datasets/imagenet_pretext.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]
data_root = ('/usr/share/doc/labelme-examples/examples/instance_segmentation/'
             'data_dataset_coco/JPEGImages')

data_preprocessor = dict(num_views=1, mean=[127.5, 127.5, 127.5], std=[64.0, 64.0, 64.0],
                         to_rgb=False)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ColorizationViews', target_size=16),
    dict(type='PackInputs', algorithm_keys=['ab_label']),
]
train_dataloader = dict(
    batch_size=8, num_workers=2, persistent_workers=False, pin_memory=False,
    dataset=dict(_delete_=True, type='RepeatDataset', times=64, dataset=dict(
        type='ImageFolder', data_root=data_root, pipeline=train_pipeline)))

model = dict(
    type='Colorization',
    backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=16, base_channels=16,
                  out_indices=(2,), norm_cfg=dict(type='BN'), zero_init_residual=False),
    head=dict(type='ColorizationHead', in_channels=64, num_bins=484, hid_channels=64))

optim_wrapper = dict(optimizer=dict(lr=0.05, weight_decay=5e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=1, by_epoch=True, begin=0, end=1,
                        convert_to_iter_based=True)]
train_cfg = dict(max_epochs=1)
auto_scale_lr = dict(base_batch_size=8)
default_hooks = dict(logger=dict(interval=4), checkpoint=dict(interval=1, max_keep_ckpts=1))
