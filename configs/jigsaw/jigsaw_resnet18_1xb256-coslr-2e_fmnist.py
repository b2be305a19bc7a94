# Jigsaw puzzles on Fashion-MNIST that run on a CPU: the MoCo v2 demo's ResNet-18 (CIFAR
# stem, width 16). The grid scaled to 28 px: 7-px tiles, 2-px gaps, 1-px jitter (27 px);
# P = 100 permutations of maximal minimal Hamming distance (min distance 6), written by
#   python tools/analysis/jigsaw_permutations.py --num 100 \
#       --out configs/jigsaw/permutations_100_maxmin-hamming.npy
# a shared fc 64 per tile, fc 256 after the concatenation, fc 100.
_base_ = [
    '../_base_/datasets/fashion_mnist_pretext.py',
    '../_base_/datasets/fashion_mnist_knn.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

permutations = '{{ fileDirname }}/permutations_100_maxmin-hamming.npy'

data_preprocessor = dict(num_views=9)
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='JigsawTiles', permutations=permutations, tile=7, gap=2, jitter=1),
    dict(type='PackInputs', algorithm_keys=['pretext_label']),
]))

model = dict(
    type='Jigsaw',
    channels_last=True,
    backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=16, base_channels=16,
                  out_indices=(3,), norm_cfg=dict(type='BN'), zero_init_residual=False),
    head=dict(type='PretextClsHead', in_channels=128, num_classes=100, num_parts=9,
              part_channels=[64], hid_channels=[256]))

optim_wrapper = dict(optimizer=dict(lr=0.1, weight_decay=5e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=2, by_epoch=True, begin=0, end=2,
                        convert_to_iter_based=True)]
train_cfg = dict(max_epochs=2)

custom_hooks = [
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, interval=2,
         before_train=True),
]
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=1, max_keep_ckpts=1))
