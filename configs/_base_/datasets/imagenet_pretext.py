# ImageNet train images as an unlabeled folder, for the classic pretext tasks
# (rotation, relative location, jigsaw, counting). Each task's config sets
# train_pipeline (ending in its view transform and
# dict(type='PackInputs', algorithm_keys=['pretext_label'])) and num_views.
data_root = 'data/imagenet/train/'

data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    drop_last=True,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageFolder', data_root=data_root, pipeline=[]))
