# Linear classification of a frozen ResNet-50 on ImageNet-1k: the MoCo protocol (He et al.
# 2020, moco/main_lincls.py), also MMSelfSup's MoCo v1/v2 setting.
# - The backbone is frozen: all 4 stages and the stem (frozen_stages=4), BN in eval mode
#   (norm_eval=True: running statistics are not updated); only the linear head on the
#   average-pooled 2048-d feature trains.
# - SGD lr 30, momentum 0.9, weight decay 0, batch 256 (8 GPUs x 32), 100 epochs, lr x0.1
#   at epochs 60 and 80; RandomResizedCrop 224 + flip for training, resize 256 + centre
#   crop 224 for validation.
# The pretrained backbone: an mmssl checkpoint stores the online backbone as backbone.*,
#   python tools/train.py THIS_CONFIG \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/mocov2/epoch_200.pth
# (model.backbone.init_cfg=None: the random-init baseline). Paper: MoCo v1 60.6 %, MoCo v2
# 67.5 % top-1 after 200 epochs of pretraining.
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    'mmpretrain::_base_/datasets/imagenet_bs32_pil_resize.py',
    'mmpretrain::_base_/schedules/imagenet_sgd_steplr_100e.py',
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
# the base schedule: MultiStepLR milestones [60, 80], gamma 0.1, 100 epochs

auto_scale_lr = dict(base_batch_size=256)
