# DINO demo on Fashion-MNIST for a CPU: the MoCo v2 demo's ResNet-18 (CIFAR stem, width 16)
# as student and EMA teacher, with multi-crop views made on the device, 2 x 24 px (crop
# scale 0.4-1) + 4 x 12 px (0.05-0.4), the crop scales of the paper's ViT recipe; the
# backbone runs once per view size, the teacher on the 2 global views. Scaled down for
# 2 epochs of 234 iterations at batch 256:
# - projection 128-512-512-256 with BN1d (DINO's use_bn_in_head; BN1d, not SyncBN, which DDP
#   refuses on CPU modules), K = 4096 (65536 for ImageNet);
# - teacher m 0.99 -> 1 (0.996 for 100+ epochs), tau_t 0.04 -> 0.07 over the 2 epochs,
#   the last layer frozen for the first 50 iterations (the paper: the first epoch);
# - the DINO ResNet recipe's SGD (momentum 0.9, wd 1e-4), at the demos' lr 0.06, cosine.
# The kNN evaluation reads the student backbone.
_base_ = [
    '../_base_/datasets/multicrop_fashion_mnist.py',
    '../_base_/datasets/fashion_mnist_knn.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

data_preprocessor = dict(view_groups=[
    dict(num_views=2, transforms=[
        dict(type='BatchRandomResizedCrop', size=24, scale=(0.4, 1.0)),
        dict(type='BatchRandomFlip', prob=0.5),
        dict(type='BatchColorJitter', brightness=0.4, contrast=0.4, saturation=0.0,
             hue=0.0, prob=0.8),
    ]),
    dict(num_views=4, transforms=[
        dict(type='BatchRandomResizedCrop', size=12, scale=(0.05, 0.4)),
        dict(type='BatchRandomFlip', prob=0.5),
        dict(type='BatchColorJitter', brightness=0.4, contrast=0.4, saturation=0.0,
             hue=0.0, prob=0.8),
    ]),
])

model = dict(
    type='DINO',
    num_crops=(2, 4),
    ema_momentum=0.99,
    teacher_temperature=0.07,
    warmup_teacher_temperature=0.04,
    warmup_teacher_temperature_epochs=2,
    freeze_last_layer_epochs=0,  # frozen by iterations instead: the first 50
    freeze_last_layer_iters=50,
    channels_last=True,
    backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=16, base_channels=16,
                  out_indices=(3,), norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='DINONeck', in_channels=128, hidden_channels=512, bottleneck_channels=256,
              out_channels=4096, num_layers=3, norm_cfg=dict(type='BN1d')),
    head=dict(type='DINOHead', out_channels=4096, student_temperature=0.1,
              center_momentum=0.9))

# No weight decay on biases and norms, as the official DINO code for every optimizer.
optim_wrapper = dict(optimizer=dict(lr=0.06, weight_decay=1e-4),
                     paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0,
                                        flat_decay_mult=0.0))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=2, by_epoch=True, begin=0, end=2,
                        convert_to_iter_based=True)]
train_cfg = dict(max_epochs=2)

custom_hooks = [
    # kNN of the initial (random) weights, then at the end of training.
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, interval=2,
         before_train=True),
]
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=1, max_keep_ckpts=1))
