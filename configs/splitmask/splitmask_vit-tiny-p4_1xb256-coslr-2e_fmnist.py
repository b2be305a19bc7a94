# SplitMask demo on Fashion-MNIST that runs on a CPU: the MAE demo's ViT-tiny (4 layers,
# 128-d, 4-px patches on 32-px views: 64 patches, two random halves of 32), each half
# encoded alone, a 2-block 64-d decoder predicting the other half's normalised pixels,
# InfoNCE (tau 0.2) between the two branches' pooled decoder tokens over the batch of
# 256; kNN before and after 2 epochs.
_base_ = [
    '../_base_/datasets/fashion_mnist_mim.py',
    '../_base_/datasets/fashion_mnist_knn.py',
    '../_base_/schedules/mim_demo_adamw_coslr_2e.py',
    '../_base_/default_runtime.py',
]

vit_tiny = dict(embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512)
model = dict(
    type='SplitMask',
    backbone=dict(type='MaskedViT', arch=vit_tiny, img_size=32, patch_size=4, out_type='raw'),
    neck=dict(type='MIMDecoder', num_patches=64, patch_size=4, in_chans=3, embed_dim=128,
              decoder_embed_dim=64, decoder_depth=2, decoder_num_heads=4, mlp_ratio=4),
    head=dict(type='PixelReconstructionHead', patch_size=4, loss='mse', norm_pix=True),
    contrastive_head=dict(type='InfoNCEHead', temperature=0.2),
    mim_weight=1.0,
    contrastive_weight=1.0)

custom_hooks = [
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, interval=2,
         before_train=True),
]
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=1, max_keep_ckpts=1))
