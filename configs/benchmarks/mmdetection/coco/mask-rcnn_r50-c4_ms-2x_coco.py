# Mask R-CNN R50-C4 on COCO, 2x schedule (24 epochs, lr x0.1 at 16 and 22); otherwise as 1x.
_base_ = './mask-rcnn_r50-c4_ms-1x_coco.py'

train_cfg = dict(max_epochs=24)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=24, by_epoch=True, milestones=[16, 22], gamma=0.1),
]
