# MoCo v2 (Chen et al. 2020) on one GPU, batch 256, 200 epochs, made fast: both views made
# on the GPU from decoded images (imagenet_bs256_mocov2_device.py), bfloat16 autocast,
# channels-last convolutions and torch.compile of the two backbones (the losses are read
# off the GPU once per logging interval, as in every config: DeferredRuntimeInfoHook in
# default_runtime.py). Same model, loss, lr
# (0.03 for 256) and augmentation distribution as mocov2_resnet50_8xb32-coslr-200e_in1k.py,
# and its BN: Shuffling BN on one GPU in 8 BN groups of 32 images (bn_splits=8, the class
# default), as the 8 GPUs x 32 of the paper.
# Measure it against mmpretrain's MoCo v2 with tools/benchmark/throughput.py.
_base_ = [
    '../_base_/models/mocov2_resnet50.py',
    '../_base_/datasets/imagenet_bs256_mocov2_device.py',
    '../_base_/datasets/imagenet_knn.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

model = dict(channels_last=True, bn_splits=8)
# bfloat16 needs no loss scaling: no GradScaler, hence no host sync per step.
optim_wrapper = dict(type='AutocastOptimWrapper', dtype='bfloat16')
custom_hooks = [dict(type='CompileBackbonesHook')]
env_cfg = dict(cudnn_benchmark=True)
