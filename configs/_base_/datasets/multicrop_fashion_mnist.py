# Fashion-MNIST (28 x 28 grey, repeated to 3 channels) for multi-crop methods (SwAV, DINO),
# labels unused. As in the MoCo v2 demo the dataloader only packs the decoded images, and
# the data preprocessor makes the views of the whole batch on the model's device, here in
# two groups of different sizes: 2 global views of 24 px (crop scale 0.14-1) then 6 local
# views of 12 px (scale 0.05-0.14): SwAV's 224/96-px recipe scaled to 28-px images. Each
# view: crop, flip, brightness/contrast jitter of strength 0.8 with p=0.8 (saturation and hue
# do nothing on grey, so they are off; no blur at this size). The views reach the algorithm
# as 8 batches of two sizes, neither copied nor padded to one size.
_base_ = ['./fashion_mnist_decode_only.py']

data_preprocessor = dict(
    view_groups=[
        dict(num_views=2, transforms=[
            dict(type='BatchRandomResizedCrop', size=24, scale=(0.14, 1.0)),
            dict(type='BatchRandomFlip', prob=0.5),
            dict(type='BatchColorJitter', brightness=0.8, contrast=0.8, saturation=0.0,
                 hue=0.0, prob=0.8),
        ]),
        dict(num_views=6, transforms=[
            dict(type='BatchRandomResizedCrop', size=12, scale=(0.05, 0.14)),
            dict(type='BatchRandomFlip', prob=0.5),
            dict(type='BatchColorJitter', brightness=0.8, contrast=0.8, saturation=0.0,
                 hue=0.0, prob=0.8),
        ]),
    ])
