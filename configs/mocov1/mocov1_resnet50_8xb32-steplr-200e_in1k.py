# MoCo v1 (He et al. 2020), ImageNet-1k, 8 GPUs x 32 = 256, 200 epochs, step lr.
# Paper: 60.6 % linear top-1.
_base_ = [
    '../_base_/models/mocov1_resnet50.py',
    '../_base_/datasets/imagenet_bs32_mocov1.py',
    '../_base_/datasets/imagenet_knn.py',
    '../_base_/schedules/sgd_steplr_200e.py',
    '../_base_/default_runtime.py',
]
