# Linear classification of a frozen ViT on Fashion-MNIST, on a CPU: the ViT-tiny of the
# masked-image-modeling demos (configs/{mae,simmim,beit,splitmask}/*_vit-tiny-p4*_fmnist.py:
# 4 layers, 128-d, 4 heads, 4-px patches), with the ResNet probe's recipe
# (resnet18_linear-1xb256-coslr-3e_fmnist.py: a BatchNorm without affine parameters before
# the linear layer, SGD lr 0.1, batch 256, cosine, 3 epochs, flips only).
# - The feature is the average of the patch tokens after the final LayerNorm
#   (out_type='avg_featmap'), the pooled feature the demos' kNN reads too; the masked-
#   modeling objectives put no loss on the class token. mmpretrain adds a LayerNorm after
#   the pooling for this output (ln2), which trains with the classifier.
# - All 4 blocks, the embeddings and the final norm are frozen (frozen_stages=4).
# - The demos pretrain on 32-px views; the probe reads the 28-px images, so the position
#   embedding is interpolated from 8 x 8 to 7 x 7 patches when the checkpoint loads.
#   python tools/train.py THIS_CONFIG --work-dir work_dirs/linear_vit_fmnist \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/mae_demo/epoch_2.pth
# (model.backbone.init_cfg=None: the random-init baseline).
_base_ = [
    '../_base_/datasets/fashion_mnist_cls.py',
    '../../../_base_/default_runtime.py',
]

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VisionTransformer',
        arch=dict(embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512),
        img_size=28,
        patch_size=4,
        frozen_stages=4,
        out_type='avg_featmap',
        final_norm=True,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=dict(type='ClsBatchNormNeck', input_features=128),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=128,
              loss=dict(type='CrossEntropyLoss'), topk=(1, 5)))

train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=3, by_epoch=True, begin=0, end=3,
                        convert_to_iter_based=True)]
# validated once, at the end: the number the benchmark reports
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=3, val_interval=3)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=3, max_keep_ckpts=1))
auto_scale_lr = dict(base_batch_size=256)
