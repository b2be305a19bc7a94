# DenseCL demo on Fashion-MNIST for a CPU: the MoCo v2 demo's parts (ResNet_CIFAR-18 at width
# 16, 24-px views made by the data preprocessor, Shuffling BN in 4 BN groups of 64 images
# (bn_splits=4; the class default is 8), SGD lr 0.06 with a cosine schedule over 2 epochs)
# with DenseCL's neck, dense loss and second queue.
# - The backbone's last map is 3 x 3 on the 24-px training views (stride 8: 24 -> 12 -> 6
#   -> 3), so the dense branch matches 9 locations per image; num_grid=None keeps that grid
#   (DenseCLNeck has no BN, so nothing needs SyncBN replacing).
# - The dense loss is held at weight 0 for the first 50 iterations, about a fifth of the
#   first epoch as the authors' 1000 iterations are of theirs.
# - An online linear probe on the pooled 128-d backbone feature learns the labels alongside
#   (its gradient stops at the feature): the training log shows loss_probe and acc_probe,
#   the kNN evaluation reports probe/top1 next to knn/top1, and so does tools/test.py.
_base_ = [
    '../_base_/datasets/fashion_mnist_mocov2.py',
    '../_base_/datasets/fashion_mnist_knn.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='DenseCL',
    queue_length=4096,
    feat_dim=128,
    ema_momentum=0.99,
    dense_loss_start_iter=50,
    loss_lambda=0.5,
    bn_splits=4,
    channels_last=True,
    backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=16, base_channels=16,
                  out_indices=(3,), norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='DenseCLNeck', in_channels=128, hid_channels=512, out_channels=128,
              num_grid=None),
    head=dict(type='InfoNCEHead', temperature=0.2),
    online_probe=dict(in_channels=128, num_classes=10))

# The schedule base, shortened to 2 epochs; lr 0.06 and wd 5e-4 as the MoCo v2 demo. The
# probe is a classifier: no weight decay on it.
optim_wrapper = dict(optimizer=dict(lr=0.06, weight_decay=5e-4),
                     paramwise_cfg=dict(custom_keys={'online_probe': dict(decay_mult=0)}))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=2, by_epoch=True, begin=0, end=2,
                        convert_to_iter_based=True)]
train_cfg = dict(max_epochs=2)

custom_hooks = [
    # kNN (and the probe) of the initial (random) weights, then at the end of training.
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, interval=2,
         before_train=True),
]
test_evaluator = [dict(type='KNNAccuracy', k=20, temperature=0.07),
                  dict(type='ProbeAccuracy', topk=(1, ))]
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=1, max_keep_ckpts=1))
