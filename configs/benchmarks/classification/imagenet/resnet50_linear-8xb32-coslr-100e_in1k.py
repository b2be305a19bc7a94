# Linear classification of a frozen ResNet-50 on ImageNet-1k, cosine variant (MoCo v2
# style): the MoCo protocol (resnet50_linear-8xb32-steplr-100e_in1k.py: frozen stages,
# BN in eval mode, SGD lr 30, momentum 0.9, wd 0, batch 256, 100 epochs) with a cosine
# decay of the lr to 0 instead of the steps at 60 and 80.
# (MMSelfSup 0.x used this name for SwAV's setting, lr 0.3 and wd 1e-6; for it:
#  --cfg-options optim_wrapper.optimizer.lr=0.3 optim_wrapper.optimizer.weight_decay=1e-6)
#   python tools/train.py THIS_CONFIG \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/mocov2/epoch_200.pth
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    'mmpretrain::_base_/datasets/imagenet_bs32_pil_resize.py',
    'mmpretrain::_base_/schedules/imagenet_sgd_coslr_100e.py',
    '../../../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        frozen_stages=4,
        norm_eval=True,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=30., momentum=0.9, weight_decay=0.))
# the base schedule: CosineAnnealingLR over 100 epochs (T_max=100, to 0)

auto_scale_lr = dict(base_batch_size=256)
