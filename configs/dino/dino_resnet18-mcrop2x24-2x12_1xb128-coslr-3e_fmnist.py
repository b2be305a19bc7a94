# DINO on Fashion-MNIST: the model zoo's recipe (at most 20 minutes of training on one CPU
# thread, docs/model_zoo.md). The 2-epoch demo (dino_resnet18-mcrop2x24-4x12_1xb256-coslr-
# 2e_fmnist.py, comments there) changed for the budget: 2 local 12-px views instead of 4
# (0.86 of the cost per image, so 3 epochs fit: 358 s each), brightness/contrast jitter 0.8
# (the MoCo v2 sweep's gain, docs/sweeps/mocov2_fmnist.md), batch 128 (more steps) at the
# same lr 0.06, the teacher temperature warmed up 0.04 -> 0.07 over the first epoch (the
# paper: 30 of 100-300 epochs), cosine lr over 3 epochs.
_base_ = './dino_resnet18-mcrop2x24-4x12_1xb256-coslr-2e_fmnist.py'

jitter = dict(type='BatchColorJitter', brightness=0.8, contrast=0.8, saturation=0.0,
              hue=0.0, prob=0.8)
data_preprocessor = dict(view_groups=[
    dict(num_views=2, transforms=[
        dict(type='BatchRandomResizedCrop', size=24, scale=(0.4, 1.0)),
        dict(type='BatchRandomFlip', prob=0.5), jitter]),
    dict(num_views=2, transforms=[
        dict(type='BatchRandomResizedCrop', size=12, scale=(0.05, 0.4)),
        dict(type='BatchRandomFlip', prob=0.5), jitter]),
])
model = dict(num_crops=(2, 2), warmup_teacher_temperature_epochs=1)
train_dataloader = dict(batch_size=128)
auto_scale_lr = dict(base_batch_size=128)
param_scheduler = [dict(type='CosineAnnealingLR', T_max=3, by_epoch=True, begin=0, end=3,
                        convert_to_iter_based=True)]
train_cfg = dict(max_epochs=3)
custom_hooks = [
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, interval=3,
         before_train=True),
]
