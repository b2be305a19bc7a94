# Fine-tuning a pretrained ViT-B/16 on Stanford Cars (196 classes), every layer trained,
# e.g. from SplitMask pretrained on the cars' train images alone
# (configs/splitmask/splitmask_vit-base-p16_16xb128-amp-coslr-300e_cars.py): El-Nouby et al.
# 2021 fine-tune with BEiT's recipe, which mmpretrain's MAE/BEiT fine-tune configs follow
# (mae/benchmarks/vit-base-p16_8xb128-coslr-100e_in1k.py):
# - AdamW, betas (0.9, 0.999), lr 5e-4 x batch / 256 (MAE's base lr), weight decay 0.05
#   (none on norms, biases, class token and position embedding), layer-wise lr decay 0.65
#   (mmpretrain's LearningRateDecayOptimWrapperConstructor: block i of 12 at lr x
#   0.65 ** (12 - i), the embeddings at 0.65 ** 13), 5 warm-up epochs then cosine to 1e-6;
# - drop path 0.1; the average of the patch tokens, a fresh LayerNorm, a linear layer;
# - RandAugment (9, 0.5), random erasing 0.25, Mixup 0.8 / CutMix 1.0, label smoothing 0.1.
# The batch (8 GPUs x 32 = 256; MAE: 1024) and the 100 epochs (about 3,200 iterations on
# 8,144 images) are our choices for a small set, not the paper's (it does not say here).
#   python tools/train.py THIS_CONFIG --amp \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/x/backbone.pth
_base_ = [
    '../_base_/datasets/stanford_cars_folder.py',
    '../../../_base_/default_runtime.py',
]

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2, total_level=10,
         magnitude_level=9, magnitude_std=0.5,
         hparams=dict(pad_val=[104, 116, 124], interpolation='bicubic')),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand', min_area_ratio=0.02,
         max_area_ratio=1 / 3, fill_color=[103.53, 116.28, 123.675],
         fill_std=[57.375, 57.12, 58.395]),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VisionTransformer',
        arch='b',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1,
        out_type='avg_featmap',
        final_norm=False,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=None,
    head=dict(
        type='LinearClsHead',
        num_classes={{_base_.num_classes}},
        in_channels=768,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        init_cfg=[dict(type='TruncNormal', layer='Linear', std=2e-5)]),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='LearningRateDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        layer_decay_rate=0.65,
        custom_keys={
            '.ln': dict(decay_mult=0.0),
            '.bias': dict(decay_mult=0.0),
            '.cls_token': dict(decay_mult=0.0),
            '.pos_embed': dict(decay_mult=0.0),
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=5,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=95, by_epoch=True, begin=5, end=100, eta_min=1e-6,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=5)
val_cfg = dict()
test_cfg = dict()

auto_scale_lr = dict(base_batch_size=256)
