# Faster R-CNN R50-C4 on VOC07+12 trainval, tested on VOC07 test: the MoCo paper's detection
# transfer (detectron2 "pascal_voc_R_50_C4_24k_moco"): 24k iterations, batch 16 (8 GPUs x 2),
# lr 0.02, x0.1 at 18k and 22k, multi-scale train (480-800 px), SyncBN fine-tuned everywhere
# (no frozen stage) and an extra norm after res5. Inputs are RGB with ImageNet mean/std, as
# mmssl pretrains. Start it with tools/benchmark/mmdetection/dist_train.sh
# (docs/transfer.md).
_base_ = 'mmdet::pascal_voc/faster-rcnn_r50-caffe-c4_ms-18k_voc0712.py'
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
    # res5 lives in the box head: it loads the same file (its keys are layer4.*).
    roi_head=dict(shared_head=dict(
        type='ResLayerExtraNorm', norm_cfg=norm_cfg, norm_eval=False, style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.'))))

max_iter = 24000
train_cfg = dict(max_iters=max_iter, val_interval=max_iter)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', begin=0, end=max_iter, by_epoch=False, milestones=[18000, 22000],
         gamma=0.1),
]
# AP over IoU 0.5:0.95 as well as AP50, as the MoCo paper reports on VOC.
val_evaluator = dict(type='VOCMetric', metric='mAP', eval_mode='11points',
                     iou_thrs=[0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95])
test_evaluator = val_evaluator
