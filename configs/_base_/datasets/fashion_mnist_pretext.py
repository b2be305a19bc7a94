# Fashion-MNIST (Debian's dataset-fashion-mnist) at 28 x 28, grey repeated to 3 channels,
# for the classic pretext tasks' CPU demos. The views are made on the CPU by the task's
# transform (rotations, patches, tiles, counting views), so there are no device views;
# each config sets the pipeline and num_views. Labels are not used for training.
fmnist_root = '/usr/share/datasets/fashion-mnist'

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
    dataset=dict(type='FashionMNIST', data_root=fmnist_root, split='train', pipeline=[]))
