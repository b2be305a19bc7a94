# Weighted kNN on Fashion-MNIST (k=20, tau=0.07): the 60,000 training images vote, the
# 10,000 test images are classified. Raw pixels score 84.07 % top-1 this way.
# tools/test.py uses test_*; KNNEvalHook takes knn_dataloader during pretraining.
# $MMSSL_FMNIST_ROOT when set (mmengine substitutes it when loading), else Debian's path.
knn_fmnist_root = '{{$MMSSL_FMNIST_ROOT:/usr/share/datasets/fashion-mnist}}'

knn_pipeline = [dict(type='PackInputs')]

knn_dataloader = dict(
    batch_size=512,
    num_workers=1,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='KNNDataset',
        bank=dict(type='FashionMNIST', data_root=knn_fmnist_root, split='train',
                  pipeline=knn_pipeline, test_mode=True),
        query=dict(type='FashionMNIST', data_root=knn_fmnist_root, split='test',
                   pipeline=knn_pipeline, test_mode=True)))

test_dataloader = knn_dataloader
test_evaluator = dict(type='KNNAccuracy', k=20, temperature=0.07)
test_cfg = dict(type='TestLoop')
