# MAE (He et al. 2021) with ViT-B/16 on ImageNet-1k, 8 GPUs x 512 = 4096, 1600 epochs, as
# published: mask 75 %, normalised-pixel MSE, 8-block 512-d decoder, AdamW (0.9, 0.95) lr
# 2.4e-3 (1.5e-4 x 4096/256), wd 0.05, 40 warm-up epochs, cosine, crop 0.2-1 + flip.
# Paper: 83.6 % fine-tuned, 68.0 % linear top-1.
_base_ = [
    '../_base_/models/mae_vit-base-p16.py',
    '../_base_/datasets/mim_imagenet_bs256_device.py',
    '../_base_/datasets/imagenet_knn.py',
    '../_base_/schedules/mae_adamw_coslr_1600e.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=512)
