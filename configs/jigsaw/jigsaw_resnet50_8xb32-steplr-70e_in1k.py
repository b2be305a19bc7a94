# Jigsaw puzzles (Noroozi & Favaro, ECCV 2016) on ImageNet with ResNet-50.
# From the paper: a 225 x 225 crop of the image resized to 256 px, cut into a 3 x 3 grid
# of 75-px cells with a 64-px tile at a random place in each (here: 64-px tiles, 11-px
# gaps, up to 5 px of jitter: 3 x 64 + 2 x 11 + 2 x 5 = 224 px), every tile normalised on
# its own, a set of P = 1000 permutations chosen for large Hamming distance (the paper's
# best), the tiles through one shared network, a per-tile fc, their concatenation through
# fc layers to the P-way classifier, a batch of 256.
# The permutation set sits next to this config; it was written by
#   python tools/analysis/jigsaw_permutations.py --num 1000 \
#       --out configs/jigsaw/permutations_1000_maxmin-hamming.npy
# (greedy max-min Hamming selection: the minimal distance is the criterion, the paper's
# Algorithm 1 uses the average).
# Mapped to ResNet-50 (not the paper's AlexNet CFN): pooled 2048-d tile features, a shared
# fc 512 + BN + ReLU per tile (CFN's fc6), fc 4096 + BN + ReLU after the concatenation
# (fc7), fc 1000 (fc8); random grayscale p=0.3 against chromatic-aberration shortcuts;
# the ResNet-50 step schedule of the other pretext tasks (70 epochs of 5000 steps, about
# the paper's 350k iterations), lr 0.1 for the batch of 256.
_base_ = [
    '../_base_/datasets/imagenet_pretext.py',
    '../_base_/schedules/sgd_steplr_70e.py',
    '../_base_/default_runtime.py',
]

permutations = '{{ fileDirname }}/permutations_1000_maxmin-hamming.npy'

data_preprocessor = dict(num_views=9)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='RandomCrop', crop_size=225),
    dict(type='RandomGrayscale', prob=0.3, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='JigsawTiles', permutations=permutations, tile=64, gap=11, jitter=5),
    dict(type='PackInputs', algorithm_keys=['pretext_label']),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))

model = dict(
    type='Jigsaw',
    backbone=dict(type='ResNet', depth=50, out_indices=(3,), norm_cfg=dict(type='SyncBN')),
    head=dict(type='PretextClsHead', in_channels=2048, num_classes=1000, num_parts=9,
              part_channels=[512], hid_channels=[4096]))

optim_wrapper = dict(optimizer=dict(lr=0.1))
auto_scale_lr = dict(base_batch_size=256)
