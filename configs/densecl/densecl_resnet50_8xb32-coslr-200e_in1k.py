# DenseCL (Wang et al. CVPR 2021), ImageNet-1k, 8 GPUs x 32 = 256, 200 epochs: the MoCo v2
# recipe (SGD lr 0.03, momentum 0.9, wd 1e-4, cosine lr, MoCo v2 augmentation). The paper
# reports its gains on dense transfer (VOC/COCO detection and segmentation).
_base_ = [
    '../_base_/models/densecl_resnet50.py',
    '../_base_/datasets/imagenet_bs32_mocov2.py',
    '../_base_/datasets/imagenet_knn.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]
