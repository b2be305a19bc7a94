# MoCo v2 pretraining of an ImageNet-style ResNet-18 on the images of the detection set it
# will be fine-tuned on: the three photos of Debian's labelme-examples (apt), each seen 64
# times per epoch (MoCo v2's 224-px views). A CPU-sized start for the detection transfer demo
# (configs/benchmarks/mmdetection/labelme/, docs/transfer.md); it shows the
# plumbing, not a useful representation. Shuffling BN on one process in 4 groups of 2
# images (model.bn_splits=4: the class default 8 would leave one image per group).
_base_ = [
    '../_base_/models/mocov2_resnet50.py',
    '../_base_/datasets/imagenet_bs32_mocov2.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]
data_root = ('/usr/share/doc/labelme-examples/examples/instance_segmentation/'
             'data_dataset_coco/JPEGImages')

model = dict(
    dictionary=dict(queue_length=256),
    bn_splits=4,  # Shuffling BN on one process: 4 BN groups of 2 images
    backbone=dict(depth=18),
    neck=dict(in_channels=512, hid_channels=512))

train_dataloader = dict(
    batch_size=8, num_workers=2, persistent_workers=False, pin_memory=False,
    dataset=dict(_delete_=True, type='RepeatDataset', times=64, dataset=dict(
        type='ImageFolder', data_root=data_root, pipeline={{_base_.train_pipeline}})))

optim_wrapper = dict(optimizer=dict(lr=0.03))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=1, by_epoch=True, begin=0, end=1,
                        convert_to_iter_based=True)]
train_cfg = dict(max_epochs=1)
auto_scale_lr = dict(base_batch_size=8)
default_hooks = dict(logger=dict(interval=4), checkpoint=dict(interval=1, max_keep_ckpts=1))
