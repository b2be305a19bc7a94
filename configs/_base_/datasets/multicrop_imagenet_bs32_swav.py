# ImageNet train images as an unlabeled folder, SwAV's multi-crop views: 2 global views of
# 224 px (crop scale 0.14-1) and 6 local views of 96 px (scale 0.05-0.14), all with SimCLR's
# colour distortion (strength 1: jitter 0.8/0.8/0.8/0.2 p=0.8, grayscale p=0.2), blur p=0.5
# and a flip. MultiView returns the 8 views in this order (global first); the collate
# function stacks each view over the batch, so the data preprocessor gets 8 batches of two
# sizes, and the algorithm runs its backbone once per size.
data_root = 'data/imagenet/train/'

data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
    num_views=8)

color_and_flip = [
    dict(type='RandomApply', prob=0.8,
         transforms=[dict(type='ColorJitter', brightness=0.8, contrast=0.8, saturation=0.8,
                          hue=0.2)]),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5),
    dict(type='RandomFlip', prob=0.5),
]
global_view = [dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.14, 1.),
                    backend='pillow')] + color_and_flip
local_view = [dict(type='RandomResizedCrop', scale=96, crop_ratio_range=(0.05, 0.14),
                   backend='pillow')] + color_and_flip

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=[2, 6], transforms=[global_view, local_view]),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    drop_last=True,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageFolder', data_root=data_root, pipeline=train_pipeline))
