# Fashion-MNIST (Debian's dataset-fashion-mnist, read from its IDX files) for pretraining
# with views made on the device: the loader only packs the decoded 28 x 28 images (grey
# repeated to 3 channels; labels unused), and the data preprocessor normalises them and
# makes the views of the whole batch at once. The bases that inherit it set the views:
# data_preprocessor's num_views and device_views or view_groups, or (the pretext tasks'
# base) a pipeline that makes them on the CPU.
# $MMSSL_FMNIST_ROOT when set (mmengine substitutes it when loading), else Debian's path.
fmnist_root = '{{$MMSSL_FMNIST_ROOT:/usr/share/datasets/fashion-mnist}}'

data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[72.94, 72.94, 72.94],
    std=[90.02, 90.02, 90.02],
    to_rgb=False)

train_dataloader = dict(
    batch_size=256,
    num_workers=1,
    drop_last=True,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='FashionMNIST', data_root=fmnist_root, split='train',
                 pipeline=[dict(type='PackInputs')]))
