# BEiT demo on Fashion-MNIST that runs on a CPU, with a tokenizer built here (the DALL-E
# dVAE cannot be downloaded): a k-means codebook of 512 centroids over the per-patch
# normalised 4 x 4 x 3 patches of training views. Build it first (about a minute):
#   python tools/analysis/build_kmeans_tokenizer.py \
#       configs/beit/beit_vit-tiny-p4_1xb256-coslr-2e_fmnist.py \
#       --out work_dirs/tokenizers/kmeans512_p4_fmnist.pth --images 10000
# Then the MAE demo's ViT-tiny (4 layers, 128-d, 4-px patches on 32-px views) with a mask
# token, 26 of 64 patches (40 %) masked in blocks of >= 4 patches, a linear layer to the
# 512 token ids, cross-entropy on the masked patches; kNN before and after 2 epochs.
_base_ = [
    '../_base_/datasets/fashion_mnist_mim.py',
    '../_base_/datasets/fashion_mnist_knn.py',
    '../_base_/schedules/mim_demo_adamw_coslr_2e.py',
    '../_base_/default_runtime.py',
]

vit_tiny = dict(embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512)
model = dict(
    type='BEiT',
    num_masked=26,
    min_block=4,
    backbone=dict(type='MaskedViT', arch=vit_tiny, img_size=32, patch_size=4, out_type='raw',
                  mask_token=True),
    head=dict(type='TokenPredictionHead', vocab_size=512, in_channels=128,
              tokenizer=dict(type='KMeansTokenizer', patch_size=4, vocab_size=512,
                             norm_pix=True,
                             codebook='work_dirs/tokenizers/kmeans512_p4_fmnist.pth')))

custom_hooks = [
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, interval=2,
         before_train=True),
]
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=1, max_keep_ckpts=1))
