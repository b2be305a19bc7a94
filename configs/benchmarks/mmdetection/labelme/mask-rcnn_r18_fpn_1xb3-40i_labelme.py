# A detection transfer that fits a CPU: Mask R-CNN R18-FPN fine-tuned from an mmssl-pretrained
# ResNet-18 (configs/mocov2/mocov2_resnet18_1xb8-coslr-1e_labelme.py, then
# tools/model_converters/extract_backbone.py) on the three annotated photos of Debian's
# labelme-examples, evaluated with mmdet's COCO metric (bbox and segm) on the same photos.
# The steps are in docs/transfer.md; the annotation file comes from
# tools/dataset_converters/prepare_labelme_examples.py. It checks the plumbing (weights,
# losses, evaluation), not accuracy: 3 images cannot measure a representation.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'

pretrained = 'work_dirs/labelme_pretrain/backbone.pth'
ann_file = 'data/labelme_examples/annotations.json'
classes = ('bottle', 'bus', 'car', 'chair', 'person', 'sofa')  # category-id order
norm_cfg = dict(type='BN', requires_grad=True)  # one CPU process: plain BN, fine-tuned

model = dict(
    backbone=dict(depth=18, frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False,
                  init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(in_channels=[64, 128, 256, 512]),
    roi_head=dict(bbox_head=dict(num_classes=len(classes)),
                  mask_head=dict(num_classes=len(classes))),
    # Fewer proposals and sampled RoIs than COCO's 2000/1000/512: 3 small images on a CPU.
    train_cfg=dict(rpn_proposal=dict(nms_pre=500, max_per_img=200),
                   rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=200), rcnn=dict(max_per_img=50)))

scale = (320, 240)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
dataset = dict(type='CocoDataset', data_root='', ann_file=ann_file, data_prefix=dict(img=''),
               metainfo=dict(classes=classes), backend_args=None)
train_dataloader = dict(
    batch_size=3, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True), batch_sampler=None,
    dataset=dict(dataset, filter_cfg=dict(filter_empty_gt=True), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    dataset=dict(dataset, test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', ann_file=ann_file, metric=['bbox', 'segm'],
                     format_only=False, backend_args=None)
test_evaluator = val_evaluator

max_iters = 40
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=5)]
default_hooks = dict(logger=dict(interval=5),
                     checkpoint=dict(by_epoch=False, interval=max_iters))
log_processor = dict(by_epoch=False)
auto_scale_lr = dict(enable=False, base_batch_size=3)
