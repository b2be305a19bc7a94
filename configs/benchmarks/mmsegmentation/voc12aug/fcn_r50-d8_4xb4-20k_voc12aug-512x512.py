# FCN on PASCAL VOC 2012 + SBD augmented (train_aug, 10,582 images; mIoU on the 1,449 val
# images), fine-tuned from an mmssl-pretrained ResNet-50.
# The MoCo paper's (appendix) protocol is kept where it is about the backbone: everything
# fine-tuned (no frozen stage, norm_eval False) with SyncBN, random scaling 0.5-2.0, crop,
# flip, RGB inputs with ImageNet mean/std (as mmssl pretrains), batch 16.
# The rest is mmseg's fcn_r50-d8_4xb4-20k_voc12aug-512x512 as it is, not the paper's: the
# paper uses an FCN-16s (conv5 dilated 2, two 3x3 convs of 256 channels with dilation 6),
# 513 crops, SGD lr 0.003, wd 1e-4, 30k iterations, lr x0.1 at 70% and 90%; here mmseg's
# FCN-D8 (conv4 and conv5 dilated, stride 8, a 512-channel head and an auxiliary head),
# 512 crops, SGD lr 0.01, wd 5e-4, poly decay, 20k iterations at 4 GPUs x 4 images.
# The backbone is mmseg's plain ResNet (7x7 stem), not mmseg's default ResNetV1c (three 3x3
# convs): an mmssl checkpoint has the 7x7 stem, which the deep stem cannot load (MMSelfSup's
# mmseg benchmark configs made the same choice).
# Start it with tools/benchmark/mmsegmentation/dist_train.sh (docs/segmentation.md).
_base_ = 'mmseg::fcn/fcn_r50-d8_4xb4-20k_voc12aug-512x512.py'
custom_imports = dict(imports=['mmssl.seg'], allow_failed_imports=False)

# The backbone from tools/model_converters/extract_backbone.py (or an mmssl checkpoint).
pretrained = 'work_dirs/pretrained/backbone.pth'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    pretrained=None,
    backbone=dict(type='ResNet', depth=50, frozen_stages=-1, norm_cfg=norm_cfg,
                  norm_eval=False,
                  init_cfg=dict(type='mmssl.PretrainedBackbone', checkpoint=pretrained)),
    decode_head=dict(norm_cfg=norm_cfg),
    auxiliary_head=dict(norm_cfg=norm_cfg))
