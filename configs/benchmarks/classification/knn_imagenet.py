# Weighted kNN of a pretrained ResNet-50 on ImageNet-1k (k=20, τ=0.07, cosine similarity:
# the NPID protocol, as MMSelfSup's knn_imagenet.py; the foundation's KNNDataset +
# KNNAccuracy): the training images vote, the validation images are classified, both
# resized to 256 and centre-cropped to 224 (configs/_base_/datasets/imagenet_knn.py).
#   python tools/test.py THIS_CONFIG work_dirs/mocov2/epoch_200.pth --out knn.json
#   bash tools/dist_test.sh THIS_CONFIG work_dirs/mocov2/epoch_200.pth 8
# The model only extracts features: any mmssl algorithm's predict mode attaches the pooled
# last backbone output that KNNAccuracy reads, and SimCLR is the one that builds from a
# backbone alone, so it stands in for all of them. The checkpoint is loaded non-strictly:
# its backbone.* (the online backbone) is used, the rest is listed in the log and ignored.
# NPID's protocol uses k=200 on ImageNet: --cfg-options test_evaluator.k=200
_base_ = [
    '../../_base_/datasets/imagenet_knn.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    type='SimCLR',
    backbone=dict(type='ResNet', depth=50, out_indices=(3,), norm_cfg=dict(type='BN'),
                  zero_init_residual=False),
    # as in pretraining (configs/_base_/datasets/imagenet_bs32_mocov1.py)
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], to_rgb=True))
