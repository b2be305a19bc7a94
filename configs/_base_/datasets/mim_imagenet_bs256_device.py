# ImageNet train images, one view per image for masked image modeling (MAE's augmentation):
# random-resized crop 224 (scale 0.2-1) and horizontal flip, made on the device by the data
# preprocessor for the whole batch (imagenet_bs256_decode_only.py decodes). No colour
# augmentation (MAE, SimMIM).
_base_ = './imagenet_bs256_decode_only.py'
view_size = 224

data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
    num_views=1,
    device_views=[
        dict(type='BatchRandomResizedCrop', size=view_size, scale=(0.2, 1.0)),
        dict(type='BatchRandomFlip', prob=0.5),
    ])
