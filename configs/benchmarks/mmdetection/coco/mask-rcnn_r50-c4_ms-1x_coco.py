# Mask R-CNN R50-C4 on COCO train2017, 1x schedule (12 epochs), tested on val2017: the MoCo
# paper's protocol (detectron2 "coco_R_50_C4_1x_moco"): SyncBN fine-tuned everywhere (no
# frozen stage), an extra norm after res5, multi-scale train (640-800 px), RGB inputs with
# ImageNet mean/std. Start it with tools/benchmark/mmdetection/dist_train.sh
# (docs/transfer.md).
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50-caffe-c4_1x_coco.py'
# mmpretrain registers ResLayerExtraNorm (res5 + a norm) in mmdet's model registry.
custom_imports = dict(imports=['mmpretrain.models.utils.res_layer_extra_norm'],
                      allow_failed_imports=False)

# The backbone from tools/model_converters/extract_backbone.py (or an mmssl checkpoint).
pretrained = 'work_dirs/pretrained/backbone.pth'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           bgr_to_rgb=True),
    backbone=dict(frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False, style='pytorch',
                  init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    # res5 lives in the RoI head: it loads the same file (its keys are layer4.*).
    roi_head=dict(shared_head=dict(
        type='ResLayerExtraNorm', norm_cfg=norm_cfg, norm_eval=False, style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.'))))

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomChoiceResize', scales=[(1333, s) for s in range(640, 801, 32)],
         keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
