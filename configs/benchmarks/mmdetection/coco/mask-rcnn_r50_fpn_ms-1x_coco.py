# Mask R-CNN R50-FPN on COCO train2017, 1x schedule (12 epochs), tested on val2017: the MoCo
# paper's protocol (detectron2 "Base-RCNN-FPN-BN"): SyncBN fine-tuned in the backbone (no
# frozen stage), the FPN, a 4conv-1fc box head and the mask head; multi-scale train
# (640-800 px). Start it with tools/benchmark/mmdetection/dist_train.sh
# (docs/transfer.md).
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'

# The backbone from tools/model_converters/extract_backbone.py (or an mmssl checkpoint).
pretrained = 'work_dirs/pretrained/backbone.pth'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False,
                  init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(norm_cfg=norm_cfg),
    roi_head=dict(
        bbox_head=dict(type='Shared4Conv1FCBBoxHead', conv_out_channels=256,
                       norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)))

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomChoiceResize', scales=[(1333, s) for s in range(640, 801, 32)],
         keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
