# SimCLR on Fashion-MNIST that runs on a CPU: the MoCo v2 demo's ResNet-18 (CIFAR stem,
# width 16) at 28 x 28, NT-Xent over the 2B views of a batch of 256 (tau 0.2 for this small
# batch), SGD with a cosine schedule.
_base_ = [
    '../_base_/datasets/fashion_mnist_mocov2.py',
    '../_base_/datasets/fashion_mnist_knn.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

# SimCLR's own view recipe: crop scale 0.08-1, strength-1 jitter (grey images: brightness and
# contrast only; 0.8 is the largest factor range that keeps the image positive).
data_preprocessor = dict(device_views=[
    dict(type='BatchRandomResizedCrop', size=24, scale=(0.08, 1.0)),
    dict(type='BatchRandomFlip', prob=0.5),
    dict(type='BatchColorJitter', brightness=0.8, contrast=0.8, saturation=0.0,
         hue=0.0, prob=0.8),
])

model = dict(
    type='SimCLR',
    channels_last=True,
    backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=16, base_channels=16,
                  out_indices=(3,), norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='NonLinearNeck', in_channels=128, hid_channels=512, out_channels=128,
              num_layers=2, with_avg_pool=True, norm_cfg=dict(type='BN1d')),
    head=dict(type='NTXentHead', temperature=0.2))

# The schedule base, shortened to 1 epoch, with SimCLR's lr 0.3 x batch/256 and wd 1e-6.
optim_wrapper = dict(optimizer=dict(lr=0.3, weight_decay=1e-6))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=1, by_epoch=True, begin=0, end=1,
                        convert_to_iter_based=True)]
train_cfg = dict(max_epochs=1)

custom_hooks = [
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, before_train=True),
]
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=1, max_keep_ckpts=1))
