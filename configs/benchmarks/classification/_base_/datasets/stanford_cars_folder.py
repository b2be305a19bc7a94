# Stanford Cars (Krause et al. 2013, 196 car models) as class folders, the layout of the
# common redistributions (and of mmpretrain's CustomDataset):
#   data/stanford_cars/train/<class>/*.jpg   8,144 images
#   data/stanford_cars/test/<class>/*.jpg    8,041 images
# Classes are the sorted folder names, so train/ and test/ need the same 196 folders.
# ImageNet's protocol at 224 px: RandomResizedCrop + flip to train, resize the short side
# to 256 + centre crop 224 to test; ImageNet mean/std, RGB (as mmssl pretrains).
# Another place: --cfg-options train_dataloader.dataset.data_root=DIR
#     val_dataloader.dataset.data_root=DIR test_dataloader.dataset.data_root=DIR
data_root = 'data/stanford_cars/'
num_classes = 196

data_preprocessor = dict(
    type='ClsDataPreprocessor',
    num_classes=num_classes,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow', interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='CustomDataset', data_root=data_root, data_prefix='train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CustomDataset', data_root=data_root, data_prefix='test',
                 pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
