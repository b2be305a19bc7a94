# SplitMask (El-Nouby et al. 2021) with ViT-B/16 on ImageNet-1k and token targets, as the
# paper trains it: the decoder of each half predicts the visual-token ids of the other
# half's patches (cross-entropy), beside the pixel-target variant
# (splitmask_vit-base-p16_16xb128-amp-coslr-300e_in1k.py), from which every other value
# comes (16 GPUs x 128, 300 epochs, BEiT's optimiser and augmentation).
# The paper's: token targets over a vocabulary of 8192 (BEiT's), patch 16.
# Ours: the tokenizer. The paper uses BEiT's DALL-E dVAE, which cannot be downloaded here;
# this config uses mmssl's own KMeansTokenizer (k-means over normalised 16 x 16 patches of
# the training views). Build its codebook once before training:
#   python tools/analysis/build_kmeans_tokenizer.py \
#       configs/splitmask/splitmask_vit-base-p16-tokens_16xb128-amp-coslr-300e_in1k.py \
#       --out work_dirs/tokenizers/kmeans8192_p16_in1k.pth --images 20000
# (DALL-E's encoder instead: tokenizer=dict(type='DALLETokenizer', vocab_size=8192,
# checkpoint=...), as configs/beit/beit_vit-base-p16_16xb128-amp-coslr-300e_in1k.py.)
_base_ = './splitmask_vit-base-p16_16xb128-amp-coslr-300e_in1k.py'

model = dict(
    neck=dict(predict_feature_dim=8192),
    head=dict(_delete_=True, type='TokenPredictionHead', vocab_size=8192,
              tokenizer=dict(type='KMeansTokenizer', patch_size=16, vocab_size=8192,
                             norm_pix=True,
                             codebook='work_dirs/tokenizers/kmeans8192_p16_in1k.pth')))
