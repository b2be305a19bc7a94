# Context prediction (Doersch, Gupta & Efros, ICCV 2015) on ImageNet with ResNet-50.
# From the paper: 96-px patches on a 3 x 3 grid with 48-px gaps, each jittered by up to
# 7 px; the centre patch and one of its 8 neighbours go through the same network, their
# features are concatenated and classified into the 8 positions (fc layers after the
# concatenation). The image is resized to 400 px (short side) and cropped to 400 x 400,
# which holds the jittered grid (3 x 96 + 2 x 48 + 2 x 7 = 398 px).
# Mapped to ResNet-50 (not the paper's): pooled 2048-d features per patch, concatenated,
# fc 4096 + BN + ReLU, fc 8 (MMSelfSup's RelativeLoc neck/head); random grayscale p=0.66
# stands in for the paper's colour dropping/projection against chromatic aberration; SGD
# lr 0.2 for 512 images, wd 1e-4 (x5 on the head), 70 epochs, steps at 30 and 50.
_base_ = [
    '../_base_/datasets/imagenet_pretext.py',
    '../_base_/schedules/sgd_steplr_70e.py',
    '../_base_/default_runtime.py',
]

data_preprocessor = dict(num_views=2)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=400, edge='short'),
    dict(type='RandomCrop', crop_size=400),
    dict(type='RandomGrayscale', prob=0.66, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='RelativeLocPatches', patch=96, gap=48, jitter=7),
    dict(type='PackInputs', algorithm_keys=['pretext_label']),
]
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))

model = dict(
    type='RelativeLoc',
    backbone=dict(type='ResNet', depth=50, out_indices=(3,), norm_cfg=dict(type='SyncBN')),
    head=dict(type='PretextClsHead', in_channels=2048, num_classes=8, num_parts=2,
              hid_channels=[4096]))

optim_wrapper = dict(paramwise_cfg=dict(custom_keys=dict(head=dict(decay_mult=5.0))))
