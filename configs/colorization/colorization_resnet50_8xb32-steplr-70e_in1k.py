# Colorization (Zhang, Isola & Efros, ECCV 2016) on ImageNet with ResNet-50.
# From the paper: the network sees the lightness L of a 224-px crop and classifies the
# colour (ab) of every pixel of a 4x smaller map into bins of a 10-spaced ab grid
# (ColorizationViews: the 22 x 22 grid over [-110, 110); the paper keeps its 313 in-gamut
# bins, here the others simply never occur), cross-entropy per pixel.
# Not from the paper: the colour-rebalancing weights (lambda 0.5 over the empirical ab
# prior) are left out (ColorizationHead takes class_weights when a prior is computed); the
# VGG-style net with dilated convolutions becomes ResNet-50 up to stage 3 (stride 16,
# 14 x 14 at 224 px) with a 3 x 3 conv + BN + ReLU and a 1 x 1 conv to the bins, upsampled
# to 56 x 56; the ResNet-50 step schedule of the other pretext tasks, lr 0.1 for 256 images.
_base_ = [
    '../_base_/datasets/imagenet_pretext.py',
    '../_base_/schedules/sgd_steplr_70e.py',
    '../_base_/default_runtime.py',
]

# The input is grey (L repeated over 3 channels): one mean/std for all channels.
data_preprocessor = dict(num_views=1, mean=[127.5, 127.5, 127.5], std=[64.0, 64.0, 64.0],
                         to_rgb=False)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ColorizationViews', target_size=56),
    dict(type='PackInputs', algorithm_keys=['ab_label']),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))

model = dict(
    type='Colorization',
    backbone=dict(type='ResNet', depth=50, out_indices=(2,), norm_cfg=dict(type='SyncBN')),
    head=dict(type='ColorizationHead', in_channels=1024, num_bins=484, hid_channels=512))

optim_wrapper = dict(optimizer=dict(lr=0.1))
auto_scale_lr = dict(base_batch_size=256)
