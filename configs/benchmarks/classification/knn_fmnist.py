# Weighted kNN of a pretrained backbone on Fashion-MNIST (k=20, τ=0.07, cosine similarity:
# the NPID protocol; the foundation's KNNDataset + KNNAccuracy, as the demos' KNNEvalHook):
# the 60,000 training images vote, the 10,000 test images are classified. On a CPU.
#   python tools/test.py THIS_CONFIG work_dirs/demo/epoch_2.pth --out knn.json
#   python tools/test.py THIS_CONFIG none      # the random-init baseline
# The model only extracts features: any mmssl algorithm's predict mode attaches the pooled
# last backbone output that KNNAccuracy reads, and SimCLR is the one that builds from a
# backbone alone (no momentum encoder, queue or head), so it stands in for all of them.
# The checkpoint is loaded non-strictly: its backbone.* (the online backbone, whatever the
# algorithm) is used, the rest (momentum encoder, neck, queue) is listed as unexpected
# keys in the log and ignored. `none` keeps PyTorch's default initialisation (the runner
# does not run init_weights for a test).
_base_ = [
    '../../_base_/datasets/fashion_mnist_knn.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    type='SimCLR',
    backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=16, base_channels=16,
                  out_indices=(3,), norm_cfg=dict(type='BN'), zero_init_residual=False),
    # as in pretraining (configs/_base_/datasets/fashion_mnist_mocov2.py)
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[72.94, 72.94, 72.94],
                           std=[90.02, 90.02, 90.02], to_rgb=False))
