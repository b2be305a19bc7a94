# SplitMask (El-Nouby et al. 2021) with ViT-B/16, pixel-target variant: each half of the
# 196 patches (98 + 98, at random) is encoded alone by the shared encoder (MaskedViT, learnt
# absolute position embedding, no mask tokens), a shallow decoder (2 blocks, 512-d) predicts
# the other half's normalised pixels, and the decoder tokens of each branch, averaged,
# are matched by InfoNCE over the batch (tau 0.2). Loss = MIM(A->B) + MIM(B->A) +
# contrastive_weight x InfoNCE. The paper predicts BEiT's dVAE tokens instead of pixels;
# the decoder size and tau here are our choices, not the paper's.
model = dict(
    type='SplitMask',
    backbone=dict(type='MaskedViT', arch='b', img_size=224, patch_size=16, out_type='raw',
                  drop_path_rate=0.1),
    neck=dict(type='MIMDecoder', num_patches=196, patch_size=16, in_chans=3, embed_dim=768,
              decoder_embed_dim=512, decoder_depth=2, decoder_num_heads=16, mlp_ratio=4),
    head=dict(type='PixelReconstructionHead', patch_size=16, loss='mse', norm_pix=True),
    contrastive_head=dict(type='InfoNCEHead', temperature=0.2),
    mim_weight=1.0,
    contrastive_weight=1.0)
