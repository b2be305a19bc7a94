# SplitMask pretraining on the target data only, CPU-sized: a ViT-tiny (6 blocks, 192-d,
# 16-px patches, 224-px views) on the three photos of Debian's labelme-examples (apt), each
# seen 64 times per epoch, before fine-tuning Mask R-CNN on the same photos
# (configs/benchmarks/mmdetection/labelme/mask-rcnn_vit-tiny-p16-sfp_1xb3-40i_labelme.py,
# docs/transfer.md). It shows the recipe's plumbing, not a representation.
# The workers only decode; pad_collate pads the photos (of different sizes) and the
# random-resized crop (scale 0.2-1) and flip are made on the device.
_base_ = './splitmask_vit-tiny-p4_1xb256-coslr-2e_fmnist.py'

data_root = ('/usr/share/doc/labelme-examples/examples/instance_segmentation/'
             'data_dataset_coco/JPEGImages')
view_size, patch_size = 224, 16
vit_tiny = dict(embed_dims=192, num_layers=6, num_heads=3, feedforward_channels=768)

data_preprocessor = dict(
    _delete_=True,
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
    num_views=1,
    device_views=[
        dict(type='BatchRandomResizedCrop', size=view_size, scale=(0.2, 1.0)),
        dict(type='BatchRandomFlip', prob=0.5),
    ])

model = dict(
    backbone=dict(arch=vit_tiny, img_size=view_size, patch_size=patch_size),
    neck=dict(num_patches=(view_size // patch_size)**2, patch_size=patch_size, embed_dim=192,
              decoder_embed_dim=128, decoder_depth=2, decoder_num_heads=4),
    head=dict(patch_size=patch_size))

train_dataloader = dict(
    _delete_=True,
    batch_size=8, num_workers=2, persistent_workers=False, drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='mmssl.pad_collate'),
    dataset=dict(type='RepeatDataset', times=64, dataset=dict(
        type='ImageFolder', data_root=data_root,
        pipeline=[dict(type='LoadImageFromFile'), dict(type='ResizeToFit', max_size=512),
                  dict(type='PackInputs')])))

optim_wrapper = dict(optimizer=dict(lr=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=4),
    dict(type='CosineAnnealingLR', T_max=20, by_epoch=False, begin=4, end=24),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
auto_scale_lr = dict(base_batch_size=8)
custom_hooks = []
default_hooks = dict(logger=dict(interval=4), checkpoint=dict(interval=1, max_keep_ckpts=1))
