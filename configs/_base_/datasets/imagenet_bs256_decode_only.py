# ImageNet train images as an unlabeled folder for views made on the device: the loader
# workers only decode each JPEG (OpenCV) and shrink it to fit 448 px (most ImageNet photos
# are smaller and stay as they are); pad_collate pads a batch to its largest image. The
# configs that inherit this one give the data preprocessor's device_views.
data_root = 'data/imagenet/train/'
max_image_size = 448

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
