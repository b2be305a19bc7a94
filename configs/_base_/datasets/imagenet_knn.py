# kNN evaluation on ImageNet: train images vote, val images are classified (labels from
# mmpretrain's ImageNet dataset: class folders, or meta/{train,val}.txt).
# Used by tools/test.py through test_dataloader / test_evaluator.
knn_data_root = 'data/imagenet/'

knn_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]

test_dataloader = dict(
    batch_size=256,
    num_workers=8,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='KNNDataset',
        bank=dict(type='ImageNet', data_root=knn_data_root, split='train',
                  pipeline=knn_pipeline),
        query=dict(type='ImageNet', data_root=knn_data_root, split='val',
                   pipeline=knn_pipeline)))
test_evaluator = dict(type='KNNAccuracy', k=20, temperature=0.07)
test_cfg = dict(type='TestLoop')
