# The backbone of the Fashion-MNIST demos (configs/mocov2/mocov2_resnet18_1xb256-coslr-2e_
# fmnist.py): ResNet-18 with the CIFAR stem (mmpretrain's ResNet_CIFAR) at width 16, so a
# 128-d feature after average pooling, in mmpretrain's ImageClassifier with a linear head.
# The pretrained weights come from an mmssl checkpoint, whose online backbone is stored as
# backbone.*: set model.backbone.init_cfg.checkpoint (or model.backbone.init_cfg=None for
# the random-init baseline: PyTorch's default initialisation of the layers).
_base_ = 'mmpretrain::_base_/models/resnet18_cifar.py'

model = dict(
    backbone=dict(
        stem_channels=16,
        base_channels=16,
        norm_cfg=dict(type='BN'),
        zero_init_residual=False,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    head=dict(in_channels=128, num_classes=10, topk=(1, 5)))
