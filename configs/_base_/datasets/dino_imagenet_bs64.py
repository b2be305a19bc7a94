# ImageNet train images as an unlabeled folder, DINO's multi-crop views (its code's
# defaults): 2 global views of 224 px (crop scale 0.4-1) and 10 local views of 96 px (scale
# 0.05-0.4), bicubic, flip, colour jitter 0.4/0.4/0.2/0.1 p=0.8, grayscale p=0.2; blur
# p=1.0 on the first global view, p=0.1 and solarisation p=0.2 on the second, p=0.5 on
# the local ones. MultiView returns the 12 views in this order (global first).
data_root = 'data/imagenet/train/'

data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
    num_views=12)

flip_and_color = [
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomApply', prob=0.8,
         transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.2,
                          hue=0.1)]),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.2989)),
]

global_crop = dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.4, 1.),
                   interpolation='bicubic', backend='pillow')
local_crop = dict(type='RandomResizedCrop', scale=96, crop_ratio_range=(0.05, 0.4),
                  interpolation='bicubic', backend='pillow')
blur = dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5)

global_view_1 = [global_crop, *flip_and_color, dict(blur, prob=1.0)]
global_view_2 = [global_crop, *flip_and_color, dict(blur, prob=0.1),
                 dict(type='Solarize', thr=128, prob=0.2)]
local_view = [local_crop, *flip_and_color, blur]

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=[1, 1, 10],
         transforms=[global_view_1, global_view_2, local_view]),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=10,
    drop_last=True,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageFolder', data_root=data_root, pipeline=train_pipeline))
