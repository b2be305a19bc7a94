# MoCo v3 demo on Fashion-MNIST that runs on a CPU, built like the MoCo v2 demo: ResNet-18
# with the CIFAR stem at width 16 (128-d features), the 24-px views made on the device,
# plain BN (BN1d) in the MLPs, kNN before and after 2 epochs. The ResNet recipe scaled to
# the short run: projector 512-BN-ReLU-128-BN, predictor 512-BN-ReLU-128, in-batch
# negatives (255 per query), tau 0.2 (1.0 suits the paper's 4096 batch, not 256), m 0.99
# -> 1 (cosine), SGD (lr 0.06, wd 5e-4) with a cosine lr instead of LARS.
_base_ = [
    '../_base_/datasets/fashion_mnist_mocov2.py',
    '../_base_/datasets/fashion_mnist_knn.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

temperature = 0.2
model = dict(
    type='MoCoV3',
    ema_momentum=0.99,
    ema_schedule='cosine',
    channels_last=True,
    backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=16, base_channels=16,
                  out_indices=(3,), norm_cfg=dict(type='BN'), zero_init_residual=True),
    neck=dict(type='NonLinearNeck', in_channels=128, hid_channels=512, out_channels=128,
              num_layers=2, with_bias=False, with_last_bn=True, with_last_bn_affine=False,
              with_last_bias=False, with_avg_pool=True, norm_cfg=dict(type='BN1d')),
    head=dict(
        type='PredictorHead',
        predictor=dict(type='NonLinearNeck', in_channels=128, hid_channels=512,
                       out_channels=128, num_layers=2, with_bias=False, with_last_bn=False,
                       with_last_bias=False, with_avg_pool=False, norm_cfg=dict(type='BN1d')),
        loss=dict(type='InfoNCEHead', temperature=temperature, loss_weight=2 * temperature)))

optim_wrapper = dict(optimizer=dict(lr=0.06, weight_decay=5e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=2, by_epoch=True, begin=0, end=2,
                        convert_to_iter_based=True)]
train_cfg = dict(max_epochs=2)

custom_hooks = [
    # kNN of the initial (random) weights, then at the end of training.
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, interval=2,
         before_train=True),
]
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=1, max_keep_ckpts=1))
