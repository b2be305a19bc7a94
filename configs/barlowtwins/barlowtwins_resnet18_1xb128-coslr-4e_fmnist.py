# Barlow Twins on Fashion-MNIST: the model zoo's recipe (at most 20 minutes of training on
# one CPU thread, docs/model_zoo.md). The 2-epoch demo (barlowtwins_resnet18_1xb256-coslr-
# 2e_fmnist.py, comments there) changed as the MoCo v2 sweep measured for the same backbone
# and views (docs/sweeps/mocov2_fmnist.md): brightness/contrast jitter 0.8, batch 128 (more
# steps per epoch) with the paper's lr 0.2 x batch/256 = 0.1, 4 epochs (232 s each), cosine.
_base_ = './barlowtwins_resnet18_1xb256-coslr-2e_fmnist.py'

data_preprocessor = dict(device_views=[
    dict(type='BatchRandomResizedCrop', size=24, scale=(0.2, 1.0)),
    dict(type='BatchRandomFlip', prob=0.5),
    dict(type='BatchColorJitter', brightness=0.8, contrast=0.8, saturation=0.0, hue=0.0,
         prob=0.8),
])
train_dataloader = dict(batch_size=128)
auto_scale_lr = dict(base_batch_size=128)
optim_wrapper = dict(optimizer=dict(lr=0.1))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=4, eta_min_ratio=1e-3, by_epoch=True,
                        begin=0, end=4, convert_to_iter_based=True)]
train_cfg = dict(max_epochs=4)
custom_hooks = [
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, interval=4,
         before_train=True),
]
