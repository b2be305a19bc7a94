# The VOC07 SVM protocol on Fashion-MNIST, for the CPU demo's backbone (ResNet-18 with the
# CIFAR stem, width 16, 28-px images; configs/mocov2/mocov2_resnet18_1xb256-coslr-2e_fmnist.py
# and the other *_fmnist.py demos): one linear SVM per class, one-vs-rest on the 10
# classes, trained on the first `num_train_images` training images, the cost chosen per
# class by 3-fold cross-validation, mAP on the first `num_test_images` test images.
#
#   python tools/benchmark/svm_voc07.py \
#       configs/benchmarks/classification/voc07_svm/resnet18-cifar-w16_svm-fmnist.py CHECKPOINT
#
# Sized for a CPU: 4-7 minutes of one CPU thread for 5,000 / 2,000 images (the SVMs of
# random weights converge slower), most of it in the SVMs (4 stages x 10 classes x 3 costs
# x 4 fits). Stages are pooled to about 512 dims rather than the protocol's 9k (2,048
# dims gained about 2 points of mAP on res5 at 2-4x the time). The costs suit these
# unit-norm features: with a 0.01-1 sweep every class picked 1; with 0.1-10 nearly every
# class picks 10, yet C=100 gave a lower test AP than C=10 in 4 of 5 spot checks (trained
# and random res2/res5 features) while taking 2-3x longer.
default_scope = 'mmssl'
# $MMSSL_FMNIST_ROOT when set (mmengine substitutes it when loading), else Debian's path.
fmnist_root = '{{$MMSSL_FMNIST_ROOT:/usr/share/datasets/fashion-mnist}}'
num_train_images = 5000
num_test_images = 2000

model = dict(
    backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=16, base_channels=16,
                  out_indices=(0, 1, 2, 3), norm_cfg=dict(type='BN'), zero_init_residual=False),
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[72.94, 72.94, 72.94],
                           std=[90.02, 90.02, 90.02], to_rgb=False))

svm_train_dataloader = dict(
    batch_size=500,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='FashionMNIST', data_root=fmnist_root, split='train',
                 indices=num_train_images, pipeline=[dict(type='PackInputs')]))
svm_test_dataloader = dict(
    batch_size=500,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='FashionMNIST', data_root=fmnist_root, split='test',
                 indices=num_test_images, pipeline=[dict(type='PackInputs')]))

svm = dict(
    # res2-res5: 16, 32, 64, 128 channels at 28, 14, 7, 4 px, adaptively pooled to
    # 6x6, 4x4, 3x3, 2x2 cells: 576, 512, 576, 512 dims
    stages=['res2', 'res3', 'res4', 'res5'],
    pool='adaptive',
    pool_dim=512,
    costs=[0.1, 1.0, 10.0],
    folds=3,
    ap_mode='area',
    seed=0)
