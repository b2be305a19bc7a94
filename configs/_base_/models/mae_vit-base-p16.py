# MAE with ViT-B/16 (He et al. 2021): the encoder (MaskedViT: mmpretrain's ViT encoding
# only the kept 25 % of the 196 patches, fixed 2-D sin-cos position embedding), a light
# decoder of 8 blocks, 512-d, 16 heads (MIMDecoder, mmpretrain's MAEPretrainDecoder), and
# the MSE of per-patch normalised pixels on the masked 75 % (norm_pix_loss). Linear layers
# Xavier-uniform, as the official code.
model = dict(
    type='MAE',
    mask_ratio=0.75,
    backbone=dict(type='MaskedViT', arch='b', img_size=224, patch_size=16, out_type='raw',
                  sincos_pos_embed=True),
    neck=dict(type='MIMDecoder', num_patches=196, patch_size=16, in_chans=3, embed_dim=768,
              decoder_embed_dim=512, decoder_depth=8, decoder_num_heads=16, mlp_ratio=4),
    head=dict(type='PixelReconstructionHead', patch_size=16, loss='mse', norm_pix=True),
    init_cfg=[dict(type='Xavier', layer='Linear', distribution='uniform'),
              dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0)])
