# SplitMask (El-Nouby et al. 2021) with ViT-B/16 on ImageNet-1k, 16 GPUs x 128 = 2048, 300
# epochs, BEiT's optimiser (AdamW 1.5e-3, wd 0.05, 10 warm-up epochs, cosine) and BEiT's
# augmentation (crop 0.08-1, colour jitter 0.4, flip). Pixel targets (see the model base).
_base_ = [
    '../_base_/models/splitmask_vit-base-p16.py',
    '../_base_/datasets/mim_imagenet_bs256_device.py',
    '../_base_/datasets/imagenet_knn.py',
    '../_base_/schedules/beit_adamw_coslr_300e.py',
    '../_base_/default_runtime.py',
]

data_preprocessor = dict(device_views=[
    dict(type='BatchRandomResizedCrop', size=224, scale=(0.08, 1.0)),
    dict(type='BatchColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.0,
         prob=1.0),
    dict(type='BatchRandomFlip', prob=0.5),
])
train_dataloader = dict(batch_size=128)
