# Barlow Twins demo on Fashion-MNIST that runs on a CPU, built like the MoCo v2 demo:
# ResNet-18 with the CIFAR stem at width 16 (128-d features), the 24-px views made on the
# device, plain BN (BN1d) in the projector, kNN before and after 2 epochs. Scaled to the
# short run: projector 1024-BN-ReLU-1024-BN-ReLU-1024, lambda 0.0051, and the paper's
# LARS recipe (lr 0.2 x batch/256 for weights, 0.0048 x batch/256 for biases and BN,
# wd 1.5e-6) without warm-up, cosine down to lr/1000.
_base_ = [
    '../_base_/datasets/fashion_mnist_mocov2.py',
    '../_base_/datasets/fashion_mnist_knn.py',
    '../_base_/schedules/barlowtwins_lars_coslr_1000e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='BarlowTwins',
    channels_last=True,
    backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=16, base_channels=16,
                  out_indices=(3,), norm_cfg=dict(type='BN'), zero_init_residual=True),
    neck=dict(type='NonLinearNeck', in_channels=128, hid_channels=1024, out_channels=1024,
              num_layers=3, with_bias=False, with_last_bn=False, with_last_bias=False,
              with_avg_pool=True, norm_cfg=dict(type='BN1d')),
    head=dict(type='BarlowTwinsHead', lambd=0.0051))

optim_wrapper = dict(optimizer=dict(lr=0.2))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=2, eta_min_ratio=1e-3, by_epoch=True,
                        begin=0, end=2, convert_to_iter_based=True)]
train_cfg = dict(max_epochs=2)
auto_scale_lr = dict(base_batch_size=256)

custom_hooks = [
    # kNN of the initial (random) weights, then at the end of training.
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, interval=2,
         before_train=True),
]
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=1, max_keep_ckpts=1))
