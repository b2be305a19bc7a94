# ImageNet train images as an unlabeled folder, one view per image for masked image
# modeling (MAE's augmentation): random-resized crop 224 (scale 0.2-1) and horizontal flip,
# made on the device by the data preprocessor for the whole batch. The loader workers only
# decode each JPEG and shrink it to fit 448 px; pad_collate pads a batch to its largest
# image. No colour augmentation (MAE, SimMIM).
data_root = 'data/imagenet/train/'
max_image_size = 448
view_size = 224

data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
    num_views=1,
    device_views=[
        dict(type='BatchRandomResizedCrop', size=view_size, scale=(0.2, 1.0)),
        dict(type='BatchRandomFlip', prob=0.5),
    ])

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeToFit', max_size=max_image_size),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=256,
    num_workers=16,
    drop_last=True,
    persistent_workers=True,
    pin_memory=True,
    prefetch_factor=4,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='mmssl.pad_collate'),
    dataset=dict(type='ImageFolder', data_root=data_root, pipeline=train_pipeline))
