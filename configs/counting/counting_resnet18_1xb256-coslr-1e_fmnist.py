# Learning to count on Fashion-MNIST that runs on a CPU: the MoCo v2 demo's ResNet-18 (CIFAR
# stem, width 16). Each 28-px image gives D(x) (14 px, random filter) and its four 14-px
# quarter tiles; a 64-d ReLU count vector, margin M = 10 as in the paper. Fashion-MNIST is
# grey already, so the random grayscale does nothing here.
# Not the paper's: a BN (no affine) before the counts' ReLU. With the plain ReLU head, SGD
# (lr 0.05 or 0.01) reaches the trivial phi = 0 within 2 steps here (loss stuck at M = 10,
# no gradient left); Adam 1e-3 keeps the loss falling but 96 % of the counts are 0 after
# 24 steps. With the BN every count is positive for part of each batch.
_base_ = [
    '../_base_/datasets/fashion_mnist_pretext.py',
    '../_base_/datasets/fashion_mnist_knn.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

data_preprocessor = dict(num_views=5)
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='RandomFlip', prob=0.5),
    dict(type='CountingViews', grayscale_prob=0.5),
    dict(type='PackInputs'),
]))

model = dict(
    type='Counting',
    channels_last=True,
    backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=16, base_channels=16,
                  out_indices=(3,), norm_cfg=dict(type='BN'), zero_init_residual=False),
    head=dict(type='CountingHead', in_channels=128, count_channels=64, hid_channels=[256],
              with_bn=True, with_last_bn=True, margin=10.0))

optim_wrapper = dict(optimizer=dict(lr=0.05, weight_decay=5e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=1, by_epoch=True, begin=0, end=1,
                        convert_to_iter_based=True)]
train_cfg = dict(max_epochs=1)

custom_hooks = [
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, before_train=True),
]
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=1, max_keep_ckpts=1))
