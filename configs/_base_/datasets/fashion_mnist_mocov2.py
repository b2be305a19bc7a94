# Fashion-MNIST (Debian's dataset-fashion-mnist, read from its IDX files) at the native
# 28 x 28, grey repeated to 3 channels. Labels are not used.
# Training views are resized to 24 px (kNN evaluation sees the full 28 px images): on the
# demo's ResNet-18 this cuts the training time by 40 % (0.45 instead of 0.8 s per batch of
# 256 on 2 CPU cores) for the same kNN gain (+6.5 points against +6.7 at 28 px, 2 epochs).
# The dataloader only packs the decoded images; the data preprocessor makes the two MoCo v2
# views of the whole batch at once on the model's device (BatchRandomResizedCrop,
# BatchRandomFlip, BatchColorJitter), which keeps the CPU free for the model. MoCo v2's
# augmentation scaled to 28-px grey images: crop 0.2-1 + flip, brightness/contrast jitter
# (saturation and hue do nothing on grey, so they are off), no blur (sigma 0.1-2 px is meant
# for 224-px views).
_base_ = ['./fashion_mnist_decode_only.py']

view_size = 24

data_preprocessor = dict(
    num_views=2,
    device_views=[
        dict(type='BatchRandomResizedCrop', size=view_size, scale=(0.2, 1.0)),
        dict(type='BatchRandomFlip', prob=0.5),
        dict(type='BatchColorJitter', brightness=0.4, contrast=0.4, saturation=0.0,
             hue=0.0, prob=0.8),
    ])
