# ImageNet train images as an unlabeled folder for views made on the device: the loader
# workers only decode each JPEG (OpenCV) and shrink the rare photo larger than 512 px to
# fit; pad_collate pads a batch to its largest image. Most ImageNet photos are 500 px on
# their longer side: they pass untouched, so the device crop samples the pixels the CPU
# pipeline's crop would. (A 448 bound shrank them all, which cost a worker as much time
# as the decoding: 378 img/s per worker against about 490 with 512; docs/benchmarks.md.)
# The configs that inherit this one give the data preprocessor's device_views.
data_root = 'data/imagenet/train/'
max_image_size = 512

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
