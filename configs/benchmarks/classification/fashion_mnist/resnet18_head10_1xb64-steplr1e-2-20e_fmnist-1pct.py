# Semi-supervised classification on Fashion-MNIST with 1 % of the labels, on a CPU: the CPU
# variant of imagenet/imagenet_1percent/. The whole demo backbone (ResNet_CIFAR-18, width
# 16) and a new linear head are fine-tuned (every layer trains, BN in training mode) on a
# class-balanced 1 % of the training images (60 per class, 600 in all), then the 10,000
# test images are classified: top-1/top-5.
# MMSelfSup's semi-supervised recipe at batch 64: SGD momentum 0.9, weight decay 5e-4,
# 20 epochs, lr x0.2 at epochs 12 and 16, backbone lr 0.01 and head lr 10 x that (head10,
# 1e-2 in the name). The subset file (one "<index> <label>" line per image) is made once by
#   python tools/dataset_converters/make_label_subsets.py fashion-mnist
# (seeded, class-balanced; the rule: docs/benchmarks.md), then
#   python tools/train.py THIS_CONFIG --work-dir work_dirs/semi1_fmnist \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/demo/epoch_2.pth
# (model.backbone.init_cfg=None: trained from a random initialisation instead).
_base_ = [
    '../_base_/models/resnet18-cifar-w16_fmnist.py',
    '../_base_/datasets/fashion_mnist_cls.py',
    '../../../_base_/default_runtime.py',
]

label_subset = 'data/fashion_mnist_subsets/1percent.txt'
train_dataloader = dict(batch_size=64, dataset=dict(subset_file=label_subset))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=10)}))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[12, 16], gamma=0.2)]
# validated once, at the end: the number the benchmark reports
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20, val_interval=20)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=20, max_keep_ckpts=1))
auto_scale_lr = dict(base_batch_size=64)
