# SwAV (Caron et al. 2020), ImageNet-1k, 8 GPUs x 32 = 256, 200 epochs, multi-crop 2 x 224
# + 6 x 96 px, LARS lr 0.6 cosine, queue of 3840 from epoch 15, prototypes frozen over the
# first epoch: the SwAV repository's 200-epoch, batch-256 recipe.
_base_ = [
    '../_base_/models/swav_resnet50.py',
    '../_base_/datasets/multicrop_imagenet_bs32_swav.py',
    '../_base_/datasets/imagenet_knn.py',
    '../_base_/schedules/swav_lars_coslr_200e.py',
    '../_base_/default_runtime.py',
]
