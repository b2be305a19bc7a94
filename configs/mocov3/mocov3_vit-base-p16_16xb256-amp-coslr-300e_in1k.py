# MoCo v3 with ViT-Base/16: the ViT-Small recipe (AdamW lr 1.5e-4 x batch/256, wd 0.1,
# 300 epochs, 40 warm-up, tau 0.2, m 0.99 -> 1) with the 768-d, 12-layer, 12-head ViT.
# Paper: 76.7 % linear top-1.
_base_ = './mocov3_vit-small-p16_16xb256-amp-coslr-300e_in1k.py'

model = dict(
    backbone=dict(arch='base'),
    neck=dict(in_channels=768))
