# DINO (Caron et al. 2021), ViT-S/16, ImageNet-1k, 8 GPUs x 64 = 512, 100 epochs, multi-crop
# 2 x 224 + 10 x 96 px, AdamW lr 0.0005 x 512/256 with a 10-epoch warm-up then cosine,
# weight decay 0.04 -> 0.4, teacher m 0.996 -> 1, tau_t 0.04 -> 0.07 over 30 epochs, last
# layer frozen over the first epoch, gradients clipped at norm 3 (the paper's code's
# defaults, with the warm-up of tau_t and the 10 local crops of its longer runs).
_base_ = [
    '../_base_/models/dino_vit-small-p16.py',
    '../_base_/datasets/dino_imagenet_bs64.py',
    '../_base_/datasets/imagenet_knn.py',
    '../_base_/schedules/dino_adamw_coslr_100e.py',
    '../_base_/default_runtime.py',
]
