# SwAV demo on Fashion-MNIST for a CPU: the MoCo v2 demo's ResNet-18 (CIFAR stem, width 16)
# with multi-crop views made on the device, 2 x 24 px + 6 x 12 px (see the dataset base);
# the backbone runs once per view size. Scaled down from the paper for 2 epochs of 234
# iterations at batch 256:
# - 300 prototypes (3000 for ImageNet's 1000 classes), tau 0.1, Sinkhorn eps 0.05 x 3;
# - a queue of 1024 features per global view from epoch 1 (the paper: 3840 from epoch 15
#   of 200 at this batch), prototypes frozen for the first 50 iterations (the paper: one
#   epoch of 200);
# - the demo's SGD (lr 0.06, wd 5e-4, cosine) instead of LARS;
# - BN1d in the projection (SwAVNeck's default SyncBN is refused by DDP on CPU modules).
_base_ = [
    '../_base_/datasets/multicrop_fashion_mnist.py',
    '../_base_/datasets/fashion_mnist_knn.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='SwAV',
    num_crops=(2, 6),
    queue_length=1024,
    queue_start_epoch=1,
    freeze_prototypes_iters=50,
    channels_last=True,
    backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=16, base_channels=16,
                  out_indices=(3,), norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='SwAVNeck', in_channels=128, hid_channels=512, out_channels=128,
              with_avg_pool=True, norm_cfg=dict(type='BN1d')),
    head=dict(type='SwAVHead', feat_dim=128, num_prototypes=300, temperature=0.1,
              epsilon=0.05, sinkhorn_iterations=3))

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
