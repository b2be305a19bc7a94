# MoCo v3 (Chen, Xie & He 2021) with ViT-Small/16, ImageNet-1k, 16 GPUs x 256 = 4096, 300
# epochs, mixed precision: AdamW lr 1.5e-4 x batch/256, wd 0.1, 40 warm-up epochs, tau
# 0.2, m 0.99 -> 1, a frozen random patch projection; BYOL's augmentation.
# Paper: 73.2 % linear top-1.
_base_ = [
    '../_base_/models/mocov3_vit-small-p16.py',
    '../_base_/datasets/byol_imagenet_bs32.py',
    '../_base_/datasets/imagenet_knn.py',
    '../_base_/schedules/mocov3_adamw_coslr_300e.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=256)
