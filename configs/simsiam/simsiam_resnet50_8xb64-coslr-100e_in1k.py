# SimSiam (Chen & He 2021), ImageNet-1k, 8 GPUs x 64 = 512 (the paper's default batch),
# 100 epochs, SGD lr 0.05 x 512/256 = 0.1, the predictor at that fixed lr. MoCo v2's
# augmentation, as in the paper. Paper: 68.1 % linear top-1.
_base_ = [
    '../_base_/models/simsiam_resnet50.py',
    '../_base_/datasets/imagenet_bs32_mocov2.py',
    '../_base_/datasets/imagenet_knn.py',
    '../_base_/schedules/simsiam_sgd_coslr_100e.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=64)
optim_wrapper = dict(optimizer=dict(lr=0.1))
auto_scale_lr = dict(base_batch_size=512)
