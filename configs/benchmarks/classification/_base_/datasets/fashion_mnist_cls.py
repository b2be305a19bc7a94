# Fashion-MNIST for the classification benchmarks: the 60,000 training images (or a label
# subset of them) train, the 10,000 test images are classified. Read by mmssl's
# FashionMNIST dataset from Debian's IDX files, at the native 28 px (as the demos' kNN
# evaluation), grey repeated to 3 channels, normalised as in pretraining.
# Training crops: RandomResizedCrop at 28 px with the pretraining's scale range (0.2-1) and
# a flip, the MoCo protocol's augmentation scaled to 28-px images (the linear config
# replaces it by the flip alone: see there); the test images are not cropped (the ImageNet
# protocol's resize + centre crop has no counterpart at 28 px).
# $MMSSL_FMNIST_ROOT when set (mmengine substitutes it when loading), else Debian's path.
fmnist_root = '{{$MMSSL_FMNIST_ROOT:/usr/share/datasets/fashion-mnist}}'

data_preprocessor = dict(
    type='ClsDataPreprocessor',
    num_classes=10,
    mean=[72.94, 72.94, 72.94],
    std=[90.02, 90.02, 90.02],
    to_rgb=False)

train_pipeline = [
    dict(type='RandomResizedCrop', scale=28, crop_ratio_range=(0.2, 1.0), backend='cv2'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]

# num_workers=0: the pipeline costs 0.6 ms per image, less than handing its DataSamples
# from a worker process to the model (0.27 s per batch of 256 to pickle); on one thread
# the main process does it faster itself.
train_dataloader = dict(
    batch_size=256,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='FashionMNIST', data_root=fmnist_root, split='train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=500,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='FashionMNIST', data_root=fmnist_root, split='test',
                 pipeline=test_pipeline, test_mode=True))
val_evaluator = dict(type='Accuracy', topk=(1, 5))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
