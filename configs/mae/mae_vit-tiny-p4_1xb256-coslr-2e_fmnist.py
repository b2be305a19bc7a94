# MAE demo on Fashion-MNIST that runs on a CPU: a ViT-tiny (4 layers, 128-d, 4 heads) on
# 32-px views with 4-px patches (8 x 8 = 64 patches, 16 kept), a 2-block 64-d decoder,
# normalised-pixel MSE on the 48 masked patches; kNN before and after 2 epochs (on the
# 28-px test images: the position embedding is interpolated from 8 x 8 to 7 x 7).
_base_ = [
    '../_base_/datasets/fashion_mnist_mim.py',
    '../_base_/datasets/fashion_mnist_knn.py',
    '../_base_/schedules/mim_demo_adamw_coslr_2e.py',
    '../_base_/default_runtime.py',
]

vit_tiny = dict(embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512)
model = dict(
    type='MAE',
    mask_ratio=0.75,
    backbone=dict(type='MaskedViT', arch=vit_tiny, img_size=32, patch_size=4, out_type='raw',
                  sincos_pos_embed=True),
    neck=dict(type='MIMDecoder', num_patches=64, patch_size=4, in_chans=3, embed_dim=128,
              decoder_embed_dim=64, decoder_depth=2, decoder_num_heads=4, mlp_ratio=4),
    head=dict(type='PixelReconstructionHead', patch_size=4, loss='mse', norm_pix=True),
    init_cfg=[dict(type='Xavier', layer='Linear', distribution='uniform'),
              dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0)])

custom_hooks = [
    # kNN of the initial (random) weights, then at the end of training.
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, interval=2,
         before_train=True),
]
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=1, max_keep_ckpts=1))
