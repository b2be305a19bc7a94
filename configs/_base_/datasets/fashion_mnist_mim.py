# Fashion-MNIST (Debian's dataset-fashion-mnist, read from its IDX files) for masked image
# modeling demos on a CPU: one view per image, made on the device for the whole batch, a
# random-resized crop (scale 0.35-1) resized to 32 px, so that 4-px patches make an 8 x 8
# grid that SimMIM's mask blocks (8 px here) and SplitMask's halves divide evenly, and a
# horizontal flip. Grey repeated to 3 channels; labels are not used in pretraining.
fmnist_root = '/usr/share/datasets/fashion-mnist'
view_size = 32

data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[72.94, 72.94, 72.94],
    std=[90.02, 90.02, 90.02],
    to_rgb=False,
    num_views=1,
    device_views=[
        dict(type='BatchRandomResizedCrop', size=view_size, scale=(0.35, 1.0)),
        dict(type='BatchRandomFlip', prob=0.5),
    ])

train_dataloader = dict(
    batch_size=256,
    num_workers=1,
    drop_last=True,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='FashionMNIST', data_root=fmnist_root, split='train',
                 pipeline=[dict(type='PackInputs')]))
