# SimSiam demo on Fashion-MNIST that runs on a CPU, built like the MoCo v2 demo: ResNet-18
# with the CIFAR stem at width 16 (128-d features), the 24-px views made on the device,
# plain BN (BN1d) in the MLPs, kNN before and after 2 epochs. The paper's CIFAR recipe
# scaled down: projector 3 x (fc 512 + BN), predictor 512-128-BN-ReLU-512, SGD lr 0.06
# (0.03 x batch/256 x 2 for the short run), wd 5e-4, cosine lr, the predictor at a
# fixed lr (FixedGroupLR, see the schedule base).
_base_ = [
    '../_base_/datasets/fashion_mnist_mocov2.py',
    '../_base_/datasets/fashion_mnist_knn.py',
    '../_base_/schedules/simsiam_sgd_coslr_100e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='SimSiam',
    channels_last=True,
    backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=16, base_channels=16,
                  out_indices=(3,), norm_cfg=dict(type='BN'), zero_init_residual=True),
    neck=dict(type='NonLinearNeck', in_channels=128, hid_channels=512, out_channels=512,
              num_layers=3, with_bias=False, with_last_bn=True, with_last_bn_affine=False,
              with_last_bias=False, with_avg_pool=True, norm_cfg=dict(type='BN1d')),
    head=dict(
        type='PredictorHead',
        predictor=dict(type='NonLinearNeck', in_channels=512, hid_channels=128,
                       out_channels=512, num_layers=2, with_bias=False, with_last_bn=False,
                       with_last_bias=True, with_avg_pool=False, norm_cfg=dict(type='BN1d')),
        loss=dict(type='CosineRegressionHead', loss='negative_cosine', loss_weight=0.5)))

optim_wrapper = dict(optimizer=dict(lr=0.06, weight_decay=5e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=2, by_epoch=True, begin=0, end=2,
         convert_to_iter_based=True),
    dict(type='FixedGroupLR'),
]
train_cfg = dict(max_epochs=2)

custom_hooks = [
    # kNN of the initial (random) weights, then at the end of training.
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, interval=2,
         before_train=True),
]
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=1, max_keep_ckpts=1))
