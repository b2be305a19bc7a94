# MoCo v2 (Chen et al. 2020), ImageNet-1k, 8 GPUs x 32 = 256, 200 epochs, cosine lr.
# Paper: 67.5 % linear top-1.
_base_ = [
    '../_base_/models/mocov2_resnet50.py',
    '../_base_/datasets/imagenet_bs32_mocov2.py',
    '../_base_/datasets/imagenet_knn.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]
