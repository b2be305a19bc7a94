# SplitMask on Fashion-MNIST: the model zoo's recipe (at most 20 minutes of training on one
# CPU thread, docs/model_zoo.md). The 2-epoch demo (splitmask_vit-tiny-p4_1xb256-coslr-
# 2e_fmnist.py, comments there) on 24-px views (6 x 6 = 36 patches, two halves of 18)
# instead of 32 px: the encoder and both decoders see all the patches, so the 32-px demo
# costs 530 s per epoch at batch 128 and 2 epochs would not fit; at 24 px 3 epochs do
# (the kNN test images, 28 px, are 7 x 7 patches: the position embedding is interpolated).
# Batch 128 with the same lr 1e-3, 100 warm-up iterations, then cosine to 0.
_base_ = './splitmask_vit-tiny-p4_1xb256-coslr-2e_fmnist.py'

data_preprocessor = dict(device_views=[
    dict(type='BatchRandomResizedCrop', size=24, scale=(0.35, 1.0)),
    dict(type='BatchRandomFlip', prob=0.5),
])
model = dict(backbone=dict(img_size=24), neck=dict(num_patches=36))
train_dataloader = dict(batch_size=128)
auto_scale_lr = dict(base_batch_size=128)
param_scheduler = [  # 468 iterations per epoch
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', T_max=1304, by_epoch=False, begin=100, end=1404),
]
train_cfg = dict(max_epochs=3)
custom_hooks = [
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, interval=3,
         before_train=True),
]
