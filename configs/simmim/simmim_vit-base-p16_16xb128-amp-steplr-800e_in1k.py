# SimMIM (Xie et al. 2021) with ViT-B/16 on ImageNet-1k, 16 GPUs x 128 = 2048, 800 epochs,
# as the official configs/vit_base__800ep/simmim_pretrain__vit_base__img224__800ep.yaml:
# random 32-px mask blocks covering 60 % of the image, the masked patches replaced by a
# learnt mask token inside the encoder, a linear head (1x1 conv + pixel shuffle) to raw
# pixels, L1 on the masked patches; AdamW (0.9, 0.999), lr 1e-4 x batch/512 = 4e-4, wd
# 0.05, grad clip 5, 10 warm-up epochs from 5e-7, lr x0.1 at epoch 700, drop path 0.1;
# crop 0.67-1 + flip. Differences: our ViT keeps mmpretrain's learnt absolute position
# embedding (the official ViT uses a shared relative position bias instead).
# Paper: 83.8 % fine-tuned top-1.
_base_ = [
    '../_base_/datasets/mim_imagenet_bs256_device.py',
    '../_base_/datasets/imagenet_knn.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='SimMIM',
    mask_patch_size=32,
    mask_ratio=0.6,
    backbone=dict(type='MaskedViT', arch='b', img_size=224, patch_size=16, out_type='raw',
                  mask_token=True, drop_path_rate=0.1),
    neck=dict(type='SimMIMLinearDecoder', in_channels=768, encoder_stride=16),
    head=dict(type='PixelReconstructionHead', patch_size=16, loss='l1', norm_pix=False))

data_preprocessor = dict(device_views=[
    dict(type='BatchRandomResizedCrop', size=224, scale=(0.67, 1.0), ratio=(3 / 4, 4 / 3)),
    dict(type='BatchRandomFlip', prob=0.5),
])
train_dataloader = dict(batch_size=128)

lr = 1e-4 * 2048 / 512
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(type='AdamW', lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05),
    clip_grad=dict(max_norm=5.0),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, custom_keys={
        'pos_embed': dict(decay_mult=0.0),
        'mask_token': dict(decay_mult=0.0),
        'cls_token': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=5e-7 / lr, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='MultiStepLR', milestones=[700], gamma=0.1, by_epoch=True, begin=10, end=800,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=800)
auto_scale_lr = dict(base_batch_size=2048)
