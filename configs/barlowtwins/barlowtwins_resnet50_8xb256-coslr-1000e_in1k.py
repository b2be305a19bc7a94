# Barlow Twins (Zbontar et al. 2021), ImageNet-1k, 8 GPUs x 256 = 2048, 1000 epochs as in
# the paper: LARS, lr 0.2 (weights) / 0.0048 (biases, BN) x batch/256, wd 1.5e-6, 10
# warm-up epochs, cosine to lr/1000; lambda 0.0051; BYOL's augmentation.
# Paper: 73.2 % linear top-1.
_base_ = [
    '../_base_/models/barlowtwins_resnet50.py',
    '../_base_/datasets/byol_imagenet_bs32.py',
    '../_base_/datasets/imagenet_knn.py',
    '../_base_/schedules/barlowtwins_lars_coslr_1000e.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=256)
