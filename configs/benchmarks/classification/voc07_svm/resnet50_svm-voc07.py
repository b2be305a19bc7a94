# VOC07 SVM benchmark (Goyal et al. 2019, as MMSelfSup's svm_voc07 runs it) for an
# ImageNet-pretrained ResNet-50: frozen features of res2-res5 on VOC2007 trainval (5,011
# images) train one linear SVM per class, the cost chosen per class by 3-fold
# cross-validation; the result is the test mAP (4,952 images) per stage.
#
#   python tools/benchmark/svm_voc07.py \
#       configs/benchmarks/classification/voc07_svm/resnet50_svm-voc07.py CHECKPOINT
#
# CHECKPOINT: an mmssl checkpoint of any ResNet-50 config (the online backbone is read
# from its 'backbone.' weights), a backbone-only file with 'backbone.' keys, or 'none'.
default_scope = 'mmssl'
data_root = 'data/VOCdevkit/VOC2007/'

# The pretraining configs' backbone; out_indices 0-3 are res2-res5.
model = dict(
    backbone=dict(type='ResNet', depth=50, out_indices=(0, 1, 2, 3), norm_cfg=dict(type='BN'),
                  zero_init_residual=False),
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], to_rgb=True))

# MMSelfSup's extraction: shorter side to 256, then the whole image to 224 x 224.
extract_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
    dict(type='Resize', scale=(224, 224), backend='pillow'),
    dict(type='PackInputs'),
]
svm_train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='VOC07Classification', data_root=data_root, split='trainval',
                 pipeline=extract_pipeline))
svm_test_dataloader = dict(
    batch_size=32,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='VOC07Classification', data_root=data_root, split='test',
                 pipeline=extract_pipeline))

svm = dict(
    stages=['res2', 'res3', 'res4', 'res5'],
    # each stage adaptively average-pooled to about 9k dims: res2 6x6x256 (9216),
    # res3 4x4x512 (8192), res4 3x3x1024 (9216), res5 2x2x2048 (8192)
    pool='adaptive',
    pool_dim=9216,
    # MMSelfSup's sweep: costs "1.0,10.0,100.0", to which its parse_cost_list appends
    # 2^-4 ... 2^-19
    costs=[1.0, 10.0, 100.0] + [0.5**k for k in range(4, 20)],
    folds=3,
    ap_mode='area',
    seed=0)
