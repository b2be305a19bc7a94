# RotNet on Fashion-MNIST that runs on a CPU: the MoCo v2 demo's ResNet-18 (CIFAR stem,
# width 16) at 28 x 28, the four rotations of each of 256 images per step (1024 views),
# a linear 4-way head, SGD with a cosine schedule over one epoch.
_base_ = [
    '../_base_/datasets/fashion_mnist_pretext.py',
    '../_base_/datasets/fashion_mnist_knn.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

data_preprocessor = dict(num_views=4)
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='RandomFlip', prob=0.5),
    dict(type='FourRotations'),
    dict(type='PackInputs', algorithm_keys=['pretext_label']),
]))

model = dict(
    type='RotationPred',
    channels_last=True,
    backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=16, base_channels=16,
                  out_indices=(3,), norm_cfg=dict(type='BN'), zero_init_residual=False),
    head=dict(type='PretextClsHead', in_channels=128, num_classes=4))

optim_wrapper = dict(optimizer=dict(lr=0.1, weight_decay=5e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=1, by_epoch=True, begin=0, end=1,
                        convert_to_iter_based=True)]
train_cfg = dict(max_epochs=1)

custom_hooks = [
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, before_train=True),
]
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=1, max_keep_ckpts=1))
