# BEiT (Bao et al. 2021) with ViT-B/16 on ImageNet-1k, 16 GPUs x 128 = 2048, 300 epochs:
# blockwise masking of 75 of the 196 patches (blocks of >= 16 patches, aspect 0.3-3.3),
# the masked patches replaced by a learnt mask token, a linear layer predicting the DALL-E
# dVAE token (vocabulary 8192) of each masked patch, cross-entropy on the masked ones;
# AdamW lr 1.5e-3, betas (0.9, 0.999), wd 0.05, grad clip 3, 10 warm-up epochs, cosine;
# layer scale 0.1, drop path 0.1; crop 0.08-1, colour jitter 0.4, flip.
# The tokenizer: DALL-E's encoder weights as a state dict at data/tokenizers/dalle_encoder.pth
# (see DALLETokenizer for converting DALL-E's encoder.pkl); or, without it, a k-means
# tokenizer built here (tools/analysis/build_kmeans_tokenizer.py, as the Fashion-MNIST demo).
# Differences: learnt absolute position embedding (BEiT: relative position bias).
_base_ = [
    '../_base_/datasets/mim_imagenet_bs256_device.py',
    '../_base_/datasets/imagenet_knn.py',
    '../_base_/schedules/beit_adamw_coslr_300e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='BEiT',
    num_masked=75,
    min_block=16,
    backbone=dict(type='MaskedViT', arch='b', img_size=224, patch_size=16, out_type='raw',
                  mask_token=True, drop_path_rate=0.1, layer_scale_init_value=0.1),
    head=dict(type='TokenPredictionHead', vocab_size=8192, in_channels=768,
              tokenizer=dict(type='DALLETokenizer', vocab_size=8192,
                             checkpoint='data/tokenizers/dalle_encoder.pth')))

data_preprocessor = dict(device_views=[
    dict(type='BatchRandomResizedCrop', size=224, scale=(0.08, 1.0)),
    dict(type='BatchColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.0,
         prob=1.0),
    dict(type='BatchRandomFlip', prob=0.5),
])
train_dataloader = dict(batch_size=128)
