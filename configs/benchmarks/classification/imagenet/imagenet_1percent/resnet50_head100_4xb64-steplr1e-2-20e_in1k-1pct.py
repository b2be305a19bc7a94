# Semi-supervised classification on ImageNet-1k with 1 % of the labels: fine-tune the
# whole pretrained ResNet-50 (every layer trains, BN in training mode) on the class-
# balanced 1 % subset (about 12,800 images), evaluate on the full validation set.
# MMSelfSup's setting (configs/benchmarks/classification/imagenet/imagenet_1percent/):
# SGD momentum 0.9, weight decay 5e-4, batch 256 (4 GPUs x 64, SyncBN), 20 epochs, lr x0.2
# at epochs 12 and 16; the backbone at lr 0.01 and the newly initialised head at 100 x
# that (lr 1.0), as the name says (head100, 1e-2). MMSelfSup swept the backbone lr over
# {0.1, 0.01, 0.001} and the head multiplier over {1, 10, 100} and reported the best; e.g.
#   --cfg-options optim_wrapper.optimizer.lr=0.001 \
#       optim_wrapper.paramwise_cfg.custom_keys.head.lr_mult=10
# The subset file (one "<path> <label>" line per image, as meta/train.txt) is made once by
#   python tools/dataset_converters/make_label_subsets.py imagenet --data-root data/imagenet
# (seeded, class-balanced: docs/benchmarks.md), then
#   python tools/train.py THIS_CONFIG \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/mocov2/epoch_200.pth
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    'mmpretrain::_base_/datasets/imagenet_bs32_pil_resize.py',
    'mmpretrain::_base_/schedules/imagenet_sgd_steplr_100e.py',
    '../../../../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        norm_cfg=dict(type='SyncBN'),
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')))

train_dataloader = dict(
    batch_size=64,
    dataset=dict(split='train', ann_file='meta/train_1percent.txt'))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=100)}))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[12, 16], gamma=0.2)]
train_cfg = dict(by_epoch=True, max_epochs=20, val_interval=1)

auto_scale_lr = dict(base_batch_size=256)
