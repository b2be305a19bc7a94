# Transitive invariance (Wang, He & Gupta, ICCV 2017) with ResNet-50.
# From the paper: a graph over patches of objects tracked through videos:
# intra-instance edges join a track's first and last patch; inter-instance edges join the
# first patches of tracks of other videos, from a context-prediction model's features
# (k-means into coarse clusters, 10 nearest neighbours inside a cluster, 4-cliques kept);
# a triplet network (shared weights) trained with max(0, D(a,p) - D(a,n) + margin), D the
# cosine distance, on intra, inter and transitive pairs ((A, B') with A-B inter and B-B'
# intra), negatives at random. Mine the graph first (patch crops are written beside it):
#   python tools/dataset_converters/mine_transitive_graph.py --videos data/videos \
#       --config configs/relativeloc/relativeloc_resnet50_8xb64-steplr-70e_in1k.py \
#       --checkpoint work_dirs/relativeloc/epoch_70.pth --clusters 5000 --neighbours 10 \
#       --patch-size 96 --min-motion 8 --out data/transitive/graph.json
# Not from the paper (which trains VGG-16; its batch and learning rate are not reproduced
# here): ResNet-50, pooled 2048-d, fc 2048 + BN + ReLU, fc 1024 (the 1024-d embedding of
# Wang & Gupta 2015), margin 0.5, patches resized to 224 px with flips, SGD lr 0.03 for 256
# triplets, wd 1e-4, 70 epochs of the graph's pairs with steps at 30 and 50; --min-motion 8
# (pixels) keeps moving objects, as the paper does.
_base_ = [
    '../_base_/schedules/sgd_steplr_70e.py',
    '../_base_/default_runtime.py',
]
graph_file = 'data/transitive/graph.json'
data_root = 'data/transitive/'  # the nodes' img_path (the crops) are relative to it

data_preprocessor = dict(
    type='SelfSupDataPreprocessor', num_views=3,  # [anchor, positive, negative]
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
view_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(224, 224)),
    dict(type='RandomFlip', prob=0.5),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    drop_last=True,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='TransitiveTripletDataset', graph_file=graph_file, data_root=data_root,
                 view_pipeline=view_pipeline,
                 pipeline=[dict(type='PackInputs', meta_keys=('pair_kind', ))]))

model = dict(
    type='TransitiveInvariance',
    backbone=dict(type='ResNet', depth=50, out_indices=(3,), norm_cfg=dict(type='SyncBN')),
    neck=dict(type='NonLinearNeck', in_channels=2048, hid_channels=2048, out_channels=1024,
              num_layers=2, with_avg_pool=True),
    head=dict(type='TripletRankingHead', margin=0.5))

optim_wrapper = dict(optimizer=dict(lr=0.03))
auto_scale_lr = dict(base_batch_size=256)
