# The target-data-only recipe (SplitMask, El-Nouby et al. 2021) at full size: Mask R-CNN on
# COCO train2017 with the ViT-B/16 pretrained on COCO train2017's images alone by
# configs/splitmask/splitmask_vit-base-p16_16xb128-amp-coslr-300e_coco.py (or
# configs/beit/beit_vit-base-p16_16xb128-amp-coslr-300e_coco.py: the same ViT state dict),
# tested on val2017 (bbox and segm AP). The detector follows ViTDet (Li et al. 2022):
# - backbone: mmpretrain's VisionTransformer (mmssl's MaskedViT has its state dict), global
#   attention in every block (mmpretrain has no windowed attention; ViTDet windows most
#   blocks), drop path 0.1, the 14 x 14 position embedding interpolated to 64 x 64 on load;
# - neck: ViTDet's simple feature pyramid (mmssl.det.SimpleFeaturePyramid, strides 4-64);
# - heads: mmdet's Mask R-CNN, ViTDet's variant: two convs in the RPN head, 4conv-1fc box
#   head, LayerNorm in the pyramid, box and mask heads;
# - data: large-scale jitter at 1024 px (mmdet's common/lsj-100e_coco-instance.py: resize
#   0.1-2.0, crop and pad to 1024 x 1024, flip), tested at 1024 px on the long side;
# - optimiser: AdamW lr 1e-4, betas (0.9, 0.999), wd 0.1 (none on norms and the position
#   embedding), layer-wise lr decay 0.75 (ViTDet's ViT-B uses 0.7), mixed precision;
# - schedule: 1x = 12 epochs at 16 images per batch (8 GPUs x 2), 1000 warm-up
#   iterations, lr x0.1 after epochs 8 and 11 (mmdet's 1x for transformer backbones).
# Layer decay: mmpretrain's LearningRateDecayOptimWrapperConstructor needs the whole model
# to have get_layer_depth (mmdet's MaskRCNN has not) and mmdet's
# LearningRateDecayOptimizerConstructor handles ConvNeXt only, so the decay is written out
# as mmengine's custom_keys below: a ViT parameter at depth d (0: patch and position
# embedding, i + 1: block i) gets lr x 0.75 ** (13 - d), as ViTDet's get_vit_lr_decay_rate;
# the final norm, the pyramid and the heads get the full lr.
# Start it with the backbone file of tools/model_converters/extract_backbone.py:
#   bash tools/benchmark/mmdetection/dist_train.sh THIS_CONFIG 8 work_dirs/x/backbone.pth
# COCO elsewhere than data/coco/ (mmdet's layout: annotations/, train2017/, val2017/): a
# link data/coco -> DIR, or (an override of data_root alone changes none of the dicts)
#   --cfg-options train_dataloader.dataset.data_root=DIR/ val_dataloader.dataset.data_root=DIR/
#       test_dataloader.dataset.data_root=DIR/
#       val_evaluator.ann_file=DIR/annotations/instances_val2017.json
#       test_evaluator.ann_file=DIR/annotations/instances_val2017.json
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::common/lsj-100e_coco-instance.py',
]
custom_imports = dict(imports=['mmssl.det'], allow_failed_imports=False)

# The backbone from tools/model_converters/extract_backbone.py (or an mmssl checkpoint).
pretrained = 'work_dirs/pretrained/backbone.pth'
data_root = 'data/coco/'
image_size = (1024, 1024)
num_layers, layer_decay = 12, 0.75
norm_cfg = dict(type='LN2d', requires_grad=True)

model = dict(
    data_preprocessor=dict(
        batch_augments=[dict(type='BatchFixedSizePad', size=image_size, pad_mask=True)]),
    backbone=dict(
        _delete_=True, type='mmpretrain.VisionTransformer', arch='b', img_size=image_size[0],
        patch_size=16, drop_path_rate=0.1, out_type='featmap', final_norm=True,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(_delete_=True, type='SimpleFeaturePyramid', in_channels=768, out_channels=256,
              num_outs=5, norm_cfg=norm_cfg),
    rpn_head=dict(num_convs=2),
    roi_head=dict(
        bbox_head=dict(type='Shared4Conv1FCBBoxHead', conv_out_channels=256,
                       norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)))

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomResize', scale=image_size, ratio_range=(0.1, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_type='absolute_range', crop_size=image_size,
         recompute_bbox=True, allow_negative_crop=True),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
# COCO train2017 once per epoch (the LSJ base repeats it 4 times per "epoch").
train_dataloader = dict(
    batch_size=2, num_workers=4,
    dataset=dict(
        _delete_=True, type='CocoDataset', data_root=data_root,
        ann_file='annotations/instances_train2017.json', data_prefix=dict(img='train2017/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32), pipeline=train_pipeline,
        backend_args=None))
val_dataloader = dict(dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator

max_epochs = 12
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[8, 11],
         gamma=0.1),
]

# Layer-wise lr decay as custom keys (see the top): the longest matching key wins, so a
# block's norms ('...layers.3.ln') keep the block's lr without weight decay.
decay_keys = {'backbone.layers.%d.' % i: dict(lr_mult=layer_decay**(num_layers - i),
                                              decay_mult=1.0)
              for i in range(num_layers)}
decay_keys.update({'backbone.layers.%d.ln' % i: dict(lr_mult=layer_decay**(num_layers - i),
                                                     decay_mult=0.0)
                   for i in range(num_layers)})
decay_keys.update({
    'backbone.cls_token': dict(lr_mult=layer_decay**(num_layers + 1), decay_mult=0.0),
    'backbone.pos_embed': dict(lr_mult=layer_decay**(num_layers + 1), decay_mult=0.0),
    'backbone.patch_embed.': dict(lr_mult=layer_decay**(num_layers + 1), decay_mult=1.0),
    'backbone.ln1.': dict(lr_mult=1.0, decay_mult=0.0),  # the final norm
})
optim_wrapper = dict(
    _delete_=True,
    type='AmpOptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.1),
    paramwise_cfg=dict(norm_decay_mult=0.0, custom_keys=decay_keys))

default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3))
# base_batch_size = 8 GPUs x 2 images; --auto-scale-lr rescales the lr for another batch
auto_scale_lr = dict(enable=False, base_batch_size=16)
