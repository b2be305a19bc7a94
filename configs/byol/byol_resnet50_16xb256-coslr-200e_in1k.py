# BYOL (Grill et al. 2020), ImageNet-1k, 16 GPUs x 256 = 4096, 200 epochs. The paper's
# optimisation: LARS with lr 0.2 x batch/256 = 3.2, wd 1.5e-6, biases and BN parameters
# out of weight decay and LARS's adaptation, 10 warm-up epochs then cosine; target
# momentum 0.996 -> 1 (cosine). Paper: 74.3 % linear top-1 at 1000 epochs (300 epochs: 72.5).
_base_ = [
    '../_base_/models/byol_resnet50.py',
    '../_base_/datasets/byol_imagenet_bs32.py',
    '../_base_/datasets/imagenet_knn.py',
    '../_base_/schedules/lars_coslr_200e.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=256)
optim_wrapper = dict(optimizer=dict(lr=3.2, weight_decay=1.5e-6))
