# The target-data-only recipe (SplitMask, El-Nouby et al. 2021) at CPU size: Mask R-CNN with
# a plain ViT-tiny backbone and ViTDet's simple feature pyramid (mmssl.det), fine-tuned from
# the SplitMask ViT pretrained on the same three labelme-examples photos
# (configs/splitmask/splitmask_vit-tiny-p16_1xb8-coslr-1e_labelme.py, then
# tools/model_converters/extract_backbone.py), evaluated with mmdet's COCO metric on them.
# The backbone is mmpretrain's VisionTransformer: the same state dict as mmssl's MaskedViT.
_base_ = './mask-rcnn_r18_fpn_1xb3-40i_labelme.py'
custom_imports = dict(imports=['mmssl.det'], allow_failed_imports=False)

pretrained = 'work_dirs/labelme_splitmask/backbone.pth'
vit_tiny = dict(embed_dims=192, num_layers=6, num_heads=3, feedforward_channels=768)

model = dict(
    backbone=dict(_delete_=True, type='mmpretrain.VisionTransformer', arch=vit_tiny,
                  img_size=224, patch_size=16, out_type='featmap', final_norm=True,
                  init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(_delete_=True, type='SimpleFeaturePyramid', in_channels=192, out_channels=256,
              num_outs=5))

# ViTs fine-tune with AdamW (ViTDet: lr 1e-4 at batch 64, wd 0.1); a larger lr for 40 steps.
optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                     optimizer=dict(type='AdamW', lr=2e-4, betas=(0.9, 0.999),
                                    weight_decay=0.1))
