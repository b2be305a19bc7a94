# BYOL on Fashion-MNIST: the model zoo's recipe (at most 20 minutes of training on one CPU
# thread, docs/model_zoo.md). The 2-epoch demo (byol_resnet18_1xb256-coslr-2e_fmnist.py,
# comments there) changed as the MoCo v2 sweep measured for the same backbone and views
# (docs/sweeps/mocov2_fmnist.md): brightness/contrast jitter 0.8 (BYOL's own strength),
# batch 128 (more steps per epoch) at the same lr 0.06 (twice the linear scaling: the sweep's
# lr gain), 3 epochs (308 s each: two online and two target passes per image), cosine; the
# target's m from 0.99 to 1 on a cosine over the run.
_base_ = './byol_resnet18_1xb256-coslr-2e_fmnist.py'

data_preprocessor = dict(device_views=[
    dict(type='BatchRandomResizedCrop', size=24, scale=(0.2, 1.0)),
    dict(type='BatchRandomFlip', prob=0.5),
    dict(type='BatchColorJitter', brightness=0.8, contrast=0.8, saturation=0.0, hue=0.0,
         prob=0.8),
])
train_dataloader = dict(batch_size=128)
auto_scale_lr = dict(base_batch_size=128)
param_scheduler = [dict(type='CosineAnnealingLR', T_max=3, by_epoch=True, begin=0, end=3,
                        convert_to_iter_based=True)]
train_cfg = dict(max_epochs=3)
custom_hooks = [
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, interval=3,
         before_train=True),
]
