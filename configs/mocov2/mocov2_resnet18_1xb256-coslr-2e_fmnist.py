# MoCo v2 demo on Fashion-MNIST that runs on 2 CPU cores in about 7 minutes.
# See README ("The demo") for what it measures. Choices for 28-px images and a short run:
# - ResNet-18 with the CIFAR stem (3x3 conv, stride 1, no max-pool; mmpretrain's
#   ResNet_CIFAR) at width 16: the ImageNet stem would shrink 28 px to 7 px before the first
#   stage and leave a 1 x 1 map at the last. Same cost per image as the ImageNet-stem
#   ResNet-18 at 28 px, and its features keep a 4 x 4 layout.
# - The projection MLP has BN after its hidden layer (as in MoCo v2 re-implementations such
#   as solo-learn's "mocov2plus"): the loss falls much faster in a short run. Plain BN
#   (BN1d), not NonLinearNeck's default SyncBN, which DDP refuses on CPU modules.
# - Shuffling BN on one process: model.bn_splits=4 BN groups of 64 images with their own
#   statistics (the class default is 8, the paper's 8 GPUs), keys computed on the batch
#   reordered across the groups. The variants built on this demo (mocov1, end-to-end,
#   memory bank, exemplar) inherit it.
_base_ = [
    '../_base_/datasets/fashion_mnist_mocov2.py',
    '../_base_/datasets/fashion_mnist_knn.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='MoCo',
    dictionary=dict(type='QueueKeys', queue_length=4096, dim=128),
    ema_momentum=0.99,
    bn_splits=4,
    channels_last=True,
    backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=16, base_channels=16,
                  out_indices=(3,), norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='NonLinearNeck', in_channels=128, hid_channels=512, out_channels=128,
              num_layers=2, with_bias=True, with_last_bn=False, with_avg_pool=True,
              norm_cfg=dict(type='BN1d')),
    head=dict(type='InfoNCEHead', temperature=0.2))

# The schedule base, shortened to 2 epochs; lr 0.06 and wd 5e-4 suit the short run.
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
