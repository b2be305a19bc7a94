# Linear classification of a frozen ViT-B/16 on Stanford Cars (196 classes), e.g. the one
# SplitMask pretrained on the cars' train images alone
# (configs/splitmask/splitmask_vit-base-p16_16xb128-amp-coslr-300e_cars.py). MAE's linear
# probe (He et al. 2021; mmpretrain's mae/benchmarks/vit-base-p16_8xb2048-linear-coslr-90e):
# every ViT parameter frozen (frozen_stages=12, final norm included), a BatchNorm without
# affine parameters (ClsBatchNormNeck) before the linear layer, LARS lr 0.1 x batch / 256,
# momentum 0.9, weight decay 0, 10 warm-up epochs then cosine, 90 epochs. Two changes for a
# set of 8,144 images: a batch of 256 (8 GPUs x 32, MAE: 16384) and the average of the
# patch tokens as the feature (MAE probes the class token; SplitMask's loss pools patch
# tokens and puts none on the class token): out_type='avg_featmap', whose extra LayerNorm
# (ln2, not in the checkpoint) stays frozen at its identity affine init.
#   python tools/train.py THIS_CONFIG --amp \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/x/backbone.pth
_base_ = [
    '../_base_/datasets/stanford_cars_folder.py',
    '../../../_base_/default_runtime.py',
]

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VisionTransformer',
        arch='b',
        img_size=224,
        patch_size=16,
        frozen_stages=12,
        out_type='avg_featmap',
        final_norm=True,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=dict(type='ClsBatchNormNeck', input_features=768),
    head=dict(
        type='LinearClsHead',
        num_classes={{_base_.num_classes}},
        in_channels=768,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        init_cfg=dict(type='TruncNormal', layer='Linear', std=0.01)))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='LARS', lr=0.1, momentum=0.9, weight_decay=0.))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=80, by_epoch=True, begin=10, end=90, eta_min=0.,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=90, val_interval=5)
val_cfg = dict()
test_cfg = dict()

auto_scale_lr = dict(base_batch_size=256)
