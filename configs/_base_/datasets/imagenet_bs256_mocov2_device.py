# ImageNet train images, MoCo v2 views made on the device (imagenet_bs256_decode_only.py
# decodes). The data preprocessor makes both views of the whole batch at once on the GPU
# with the same augmentation as imagenet_bs32_mocov2.py (torchvision's definitions,
# per-sample random parameters): random-resized crop 224 (scale 0.2-1), colour jitter
# 0.4/0.4/0.4/0.1 with p=0.8, grayscale p=0.2, Gaussian blur sigma 0.1-2 (kernel 23) with
# p=0.5, horizontal flip.
_base_ = './imagenet_bs256_decode_only.py'
view_size = 224

data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
    num_views=2,
    device_views=[
        dict(type='BatchRandomResizedCrop', size=view_size, scale=(0.2, 1.0)),
        dict(type='BatchColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1,
             prob=0.8),
        dict(type='BatchRandomGrayscale', prob=0.2),
        dict(type='BatchGaussianBlur', kernel_size=23, sigma=(0.1, 2.0), prob=0.5),
        dict(type='BatchRandomFlip', prob=0.5),
    ])
