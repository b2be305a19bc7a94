# MoCo v1 on Fashion-MNIST that runs on a CPU: the MoCo v2 demo with v1's parts (linear
# head, tau 0.07, step schedule, colour jitter on every view), one epoch. Its Shuffling BN
# on one process is the demo's: 4 BN groups of 64 images (bn_splits=4).
_base_ = ['../mocov2/mocov2_resnet18_1xb256-coslr-2e_fmnist.py']

model = dict(
    neck=dict(_delete_=True, type='LinearNeck', in_channels=128, out_channels=128, gap_dim=2,
              norm_cfg=None),
    head=dict(temperature=0.07))

data_preprocessor = dict(device_views=[
    dict(type='BatchRandomResizedCrop', size=24, scale=(0.2, 1.0)),
    dict(type='BatchRandomFlip', prob=0.5),
    dict(type='BatchColorJitter', brightness=0.4, contrast=0.4, saturation=0.0,
         hue=0.0, prob=1.0),
])

train_cfg = dict(max_epochs=1)
# lr x0.1 at 60 % and 85 % of the 234 iterations (the paper: epochs 120 and 160 of 200).
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[140, 200], gamma=0.1)
]
