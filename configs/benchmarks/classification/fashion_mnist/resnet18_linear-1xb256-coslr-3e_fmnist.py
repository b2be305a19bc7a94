# Linear classification of a frozen backbone on Fashion-MNIST, on a CPU: the CPU variant
# of the linear benchmarks of imagenet/ (docs/benchmarks.md).
# - The demo backbone (ResNet_CIFAR-18 at width 16: a 128-d pooled feature), frozen: all 4
#   stages and the stem (frozen_stages=4), BN in eval mode (norm_eval=True, running
#   statistics not updated); only the classifier trains.
# - SimCLR's recipe rather than MoCo's lr 30: a BatchNorm without affine parameters on the
#   pooled feature before the linear layer (SimCLR, MAE: mmpretrain's ClsBatchNormNeck) and
#   SGD at lr 0.1 x batch / 256 (momentum 0.9, weight decay 0, batch 256, cosine decay).
#   MoCo's lr 30 is tuned to the scale of a ResNet-50's MoCo features; a linear probe
#   without the BN has no lr that suits both a pretrained backbone and a random one here
#   (the demo checkpoint's features have norm about 10, PyTorch-initialised ones about
#   0.2): at lr 30 the loss oscillates in the hundreds and top-1 stays near 60 %.
# - 3 epochs over the 60,000 training images, flipped at random but not cropped, then the
#   10,000 test images: top-1/top-5. At this budget the probe underfits and cropping costs
#   accuracy (1 epoch on 20,480 images, MoCo v2 demo checkpoint, 2,000 test images:
#   flip only 76.5 %, 2-px padded random crop + flip 74.3 %, the protocol's random-resized
#   crop (0.2-1 at 28 px) + flip 71.9 %).
#   python tools/train.py THIS_CONFIG --work-dir work_dirs/linear_fmnist \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/demo/epoch_2.pth
# (model.backbone.init_cfg=None: the random-init baseline). Numbers: docs/benchmarks.md.
_base_ = [
    '../_base_/models/resnet18-cifar-w16_fmnist.py',
    '../_base_/datasets/fashion_mnist_cls.py',
    '../../../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(frozen_stages=4, norm_eval=True),
    neck=[dict(type='GlobalAveragePooling'),
          dict(type='ClsBatchNormNeck', input_features=128)])

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
