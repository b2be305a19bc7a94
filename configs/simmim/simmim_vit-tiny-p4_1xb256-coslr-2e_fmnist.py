# SimMIM demo on Fashion-MNIST that runs on a CPU: the MAE demo's ViT-tiny (4 layers,
# 128-d, 4-px patches on 32-px views) with a mask token, random 8-px mask blocks (2 x 2
# patches; 32 px would be the whole image) covering 60 % of the image, a linear head to
# raw pixels, L1 on the masked patches; kNN before and after 2 epochs.
_base_ = [
    '../_base_/datasets/fashion_mnist_mim.py',
    '../_base_/datasets/fashion_mnist_knn.py',
    '../_base_/schedules/mim_demo_adamw_coslr_2e.py',
    '../_base_/default_runtime.py',
]

vit_tiny = dict(embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512)
model = dict(
    type='SimMIM',
    mask_patch_size=8,
    mask_ratio=0.6,
    backbone=dict(type='MaskedViT', arch=vit_tiny, img_size=32, patch_size=4, out_type='raw',
                  mask_token=True),
    neck=dict(type='SimMIMLinearDecoder', in_channels=128, encoder_stride=4),
    head=dict(type='PixelReconstructionHead', patch_size=4, loss='l1', norm_pix=False))

custom_hooks = [
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, interval=2,
         before_train=True),
]
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=1, max_keep_ckpts=1))
