# Learning to count (Noroozi, Pirsiavash & Favaro, ICCV 2017) on ImageNet with ResNet-50.
# The paper's: x a 228 x 228 crop of the resized image, its four 114-px quarter tiles
# T_j(x) and its 2x downsampled copy D(x) (filter drawn among bilinear, bicubic, area,
# nearest and Lanczos; random grayscale), one network phi whose "count" vector of 1000
# dimensions is the output of a ReLU (no normalisation before it), and the loss
#   |phi(D x) - sum_j phi(T_j x)|^2 + max(0, M - |phi(D y) - sum_j phi(T_j x)|^2), M = 10,
# y another image of the batch (here the previous one).
# Ours: ResNet-50 instead of the paper's AlexNet, so pooled 2048-d features, fc 4096 + BN +
# ReLU (as AlexNet's fc6/fc7), fc 1000 + ReLU; grayscale p=0.5 (per image, the five views
# alike); the ResNet-50 step schedule of the other pretext tasks, lr 0.05 for 256 images.
# The BN variant (a BN without affine before the counts' ReLU, which the Fashion-MNIST
# config needs to keep SGD away from the trivial phi = 0) is one switch away:
#   --cfg-options model.head.with_last_bn=True
# How sparse the counts are (the paper observes few non-zero outputs):
#   python tools/analysis/counting_sparsity.py CONFIG CHECKPOINT
_base_ = [
    '../_base_/datasets/imagenet_pretext.py',
    '../_base_/schedules/sgd_steplr_70e.py',
    '../_base_/default_runtime.py',
]

data_preprocessor = dict(num_views=5)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='RandomCrop', crop_size=228),
    dict(type='RandomFlip', prob=0.5),
    dict(type='CountingViews', grayscale_prob=0.5),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))

model = dict(
    type='Counting',
    backbone=dict(type='ResNet', depth=50, out_indices=(3,), norm_cfg=dict(type='SyncBN')),
    head=dict(type='CountingHead', in_channels=2048, count_channels=1000,
              hid_channels=[4096], with_bn=True, with_last_bn=False, margin=10.0))

optim_wrapper = dict(optimizer=dict(lr=0.05))
auto_scale_lr = dict(base_batch_size=256)
