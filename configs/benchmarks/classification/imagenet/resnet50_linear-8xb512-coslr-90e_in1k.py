# Linear classification of a frozen ResNet-50 on ImageNet-1k, SimCLR style (Chen et al.
# 2020, appendix B.6; also SimSiam's, BYOL's and mmpretrain's/MMSelfSup's setting for
# them): LARS, lr 0.1 x batch / 256 = 1.6 at batch 4096 (8 GPUs x 512), momentum 0.9,
# weight decay 0, cosine decay over 90 epochs; same crops as the MoCo protocol.
# Frozen backbone (frozen_stages=4), BN in eval mode (norm_eval=True); as in SimCLR's code,
# a BatchNorm without affine parameters normalises the pooled 2048-d feature before the
# linear layer (mmpretrain's ClsBatchNormNeck, MAE's linear probe too). It is part of the
# classifier: its statistics follow the training batches, the backbone's do not. It makes
# one lr fit features of any scale (mmpretrain's and MMSelfSup's SimCLR configs leave it
# out: a child config with model = dict(neck=dict(type='GlobalAveragePooling')) does).
#   python tools/train.py THIS_CONFIG \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/simclr/epoch_200.pth
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    'mmpretrain::_base_/datasets/imagenet_bs32_pil_resize.py',
    'mmpretrain::_base_/schedules/imagenet_lars_coslr_90e.py',
    '../../../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        frozen_stages=4,
        norm_eval=True,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=[dict(type='GlobalAveragePooling'),
          dict(type='ClsBatchNormNeck', input_features=2048)])

train_dataloader = dict(batch_size=512)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='LARS', lr=1.6, momentum=0.9, weight_decay=0.))
# the base schedule: CosineAnnealingLR over 90 epochs

auto_scale_lr = dict(base_batch_size=4096)
