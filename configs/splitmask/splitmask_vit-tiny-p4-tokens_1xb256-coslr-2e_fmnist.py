# The SplitMask demo with token targets, as the paper (BEiT-style): the decoder predicts
# the other half's token ids from the BEiT demo's k-means tokenizer (512 tokens over
# normalised 4 x 4 patches), cross-entropy on that half. Build the codebook first:
#   python tools/analysis/build_kmeans_tokenizer.py \
#       configs/beit/beit_vit-tiny-p4_1xb256-coslr-2e_fmnist.py \
#       --out work_dirs/tokenizers/kmeans512_p4_fmnist.pth --images 10000
_base_ = './splitmask_vit-tiny-p4_1xb256-coslr-2e_fmnist.py'

model = dict(
    neck=dict(predict_feature_dim=512),
    head=dict(_delete_=True, type='TokenPredictionHead', vocab_size=512,
              tokenizer=dict(type='KMeansTokenizer', patch_size=4, vocab_size=512,
                             norm_pix=True,
                             codebook='work_dirs/tokenizers/kmeans512_p4_fmnist.pth')))
