# A segmentation transfer that fits a CPU: FCN with a ResNet-18 fine-tuned from an
# mmssl-pretrained backbone (configs/mocov2/mocov2_resnet18_1xb8-coslr-1e_labelme-video-train.py,
# then tools/model_converters/extract_backbone.py) on the three training frames of the video
# example of Debian's labelme-examples (00000100-00000102; classes car and track), evaluated
# with mmseg's IoUMetric (mIoU at the frames' full 1000 x 563 size) on the two held-out frames
# (00000103-00000104). The label maps and split files come from
# tools/dataset_converters/prepare_labelme_segmentation.py; the frames are read where apt put
# them. Five consecutive frames of one video: it checks the plumbing and compares inits on
# one scene, it cannot measure a representation. The steps: docs/segmentation.md.
# Ours, for a CPU: the frames at 320 x 180 (a third of their size); mmseg's FCN-D8 (conv4
# and conv5 dilated 2 and 4, output stride 8: 40 x 23 at 320 x 180, where the car spans a
# few cells) with ResNet-18's channels (mmseg's fcn_r18-d8: a 128-channel head, a 64-channel
# auxiliary head); the plain ResNet with its 7x7 stem as an mmssl checkpoint has it (mmseg's
# default ResNetV1c has a deep stem that cannot load it); plain BN in one process, nothing
# frozen; 40 iterations of all three frames (batch 3), SGD lr 0.01 with poly decay (mmseg's
# values); the augmentation of mmseg's and the MoCo paper's: random scaling 0.5-2.0, a
# 180 x 320 crop, flip, and mmseg's photometric distortion.
_base_ = [
    'mmseg::_base_/models/fcn_r50-d8.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_20k.py',
]
custom_imports = dict(imports=['mmssl.seg'], allow_failed_imports=False)

pretrained = 'work_dirs/labelme_video_pretrain/backbone.pth'
data_root = 'data/labelme_segmentation/video_annotation'
frames = '/usr/share/doc/labelme-examples/examples/video_annotation/data_annotated'
classes = ('_background_', 'car', 'track')  # classes.txt of the converter, index order
palette = [[0, 0, 0], [220, 20, 60], [128, 64, 128]]
scale, crop_size = (320, 180), (180, 320)  # (w, h) and (h, w), as mmseg takes them
norm_cfg = dict(type='BN', requires_grad=True)  # one CPU process: plain BN, fine-tuned

model = dict(
    pretrained=None,
    data_preprocessor=dict(size=crop_size),
    backbone=dict(type='ResNet', depth=18, frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False,
                  init_cfg=dict(type='mmssl.PretrainedBackbone', checkpoint=pretrained)),
    decode_head=dict(in_channels=512, channels=128, num_classes=len(classes),
                     norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=256, channels=64, num_classes=len(classes),
                        norm_cfg=norm_cfg))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=scale, ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='LoadAnnotations'),  # after Resize: the metric compares at full size
    dict(type='PackSegInputs'),
]
dataset = dict(type='BaseSegDataset', data_root=data_root,
               data_prefix=dict(img_path=frames, seg_map_path='ann'),
               img_suffix='.jpg', seg_map_suffix='.png',
               metainfo=dict(classes=classes, palette=palette))
train_dataloader = dict(
    batch_size=3, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(dataset, ann_file='train.txt', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(dataset, ann_file='val.txt', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

max_iters = 40
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters,
                        by_epoch=False)]
default_hooks = dict(logger=dict(interval=5),
                     checkpoint=dict(by_epoch=False, interval=max_iters))
auto_scale_lr = dict(enable=False, base_batch_size=3)
