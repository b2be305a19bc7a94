# SimCLR (Chen et al. 2020), ImageNet-1k, 16 GPUs x 256 = 4096, 200 epochs, LARS lr 4.8,
# 10 warm-up epochs then cosine. Paper (1000 epochs): 69.3 % linear top-1.
_base_ = [
    '../_base_/models/simclr_resnet50.py',
    '../_base_/datasets/imagenet_bs32_simclr.py',
    '../_base_/datasets/imagenet_knn.py',
    '../_base_/schedules/lars_coslr_200e.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=256)
