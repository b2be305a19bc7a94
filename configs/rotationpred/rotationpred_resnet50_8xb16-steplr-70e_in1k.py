# RotNet (Gidaris, Singh & Komodakis, ICLR 2018) on ImageNet with ResNet-50.
# From the paper: the four rotations 0/90/180/270 of every image in the same batch (so a
# step of 8 x 16 images trains on 512 rotated images), a 4-way classifier, cross-entropy.
# The paper trains AlexNet/NIN; the ResNet-50 mapping (224-px random-resized crop + flip,
# linear head on the pooled 2048-d feature, SGD lr 0.2 for 128 images, 70 epochs, steps at
# 30 and 50) is MMSelfSup's ResNet-50 recipe for this task, not the paper's.
_base_ = [
    '../_base_/datasets/imagenet_pretext.py',
    '../_base_/schedules/sgd_steplr_70e.py',
    '../_base_/default_runtime.py',
]

data_preprocessor = dict(num_views=4)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='FourRotations'),
    dict(type='PackInputs', algorithm_keys=['pretext_label']),
]
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))

model = dict(
    type='RotationPred',
    backbone=dict(type='ResNet', depth=50, out_indices=(3,), norm_cfg=dict(type='SyncBN')),
    head=dict(type='PretextClsHead', in_channels=2048, num_classes=4))

auto_scale_lr = dict(base_batch_size=128)
