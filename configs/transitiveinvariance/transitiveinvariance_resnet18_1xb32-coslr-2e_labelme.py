# Transitive invariance on a CPU: the plumbing, not a useful representation. No video ships
# with the system: make 12 from Debian's labelme-examples photos (an annotated object moving
# over another photo, the videos of the motion segmentation demo), then mine the graph on
# their tracked patches with raw-pixel features: intra edges from the tracks of moving
# points (first and last patch), inter edges among the first patches of tracks of other
# videos (4 k-means clusters, 10 mutual nearest neighbours, 4-cliques) and the transitive
# pairs the two kinds chain into (docs/transitive_invariance.md):
#   python tools/dataset_converters/make_moving_object_videos.py --out data/labelme_videos \
#       --num-videos 12 --frames 16 --size 128
#   python tools/dataset_converters/mine_transitive_graph.py \
#       --videos data/labelme_videos/videos --clusters 4 --neighbours 10 --patch-size 32 \
#       --min-motion 5 --out data/transitive_demo/graph.json
# (OpenCV 4.12: 224 patches; 112 intra, 225 inter and 450 transitive pairs: 787 samples.)
# Triplets of 32-px patches through the MoCo v2 demo's ResNet-18 (CIFAR stem, width 16),
# fc 512 + BN + ReLU, fc 128, margin 0.5; SGD lr 0.05, cosine, 2 epochs (24 steps each).
_base_ = [
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]
graph_file = 'data/transitive_demo/graph.json'

data_preprocessor = dict(type='SelfSupDataPreprocessor', num_views=3,
                         mean=[127.5, 127.5, 127.5], std=[64.0, 64.0, 64.0], to_rgb=False)
view_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.6, 1.0), backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
]
train_dataloader = dict(
    batch_size=32, num_workers=2, drop_last=True, persistent_workers=False, pin_memory=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='TransitiveTripletDataset', graph_file=graph_file,
                 view_pipeline=view_pipeline,
                 pipeline=[dict(type='PackInputs', meta_keys=('pair_kind', ))]))

model = dict(
    type='TransitiveInvariance',
    backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=16, base_channels=16,
                  out_indices=(3,), norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='NonLinearNeck', in_channels=128, hid_channels=512, out_channels=128,
              num_layers=2, with_avg_pool=True, norm_cfg=dict(type='BN1d')),
    head=dict(type='TripletRankingHead', margin=0.5))

optim_wrapper = dict(optimizer=dict(lr=0.05, weight_decay=5e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=2, by_epoch=True, begin=0, end=2,
                        convert_to_iter_based=True)]
train_cfg = dict(max_epochs=2)
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=1, max_keep_ckpts=1))
