# MoCo v1 on Fashion-MNIST for the model zoo: the one-epoch demo
# (mocov1_resnet18_1xb256-steplr-1e_fmnist.py, comments there) trained 6 epochs, about
# 12 minutes on one CPU thread (the demo's epoch took 1.9 min and ended at its random
# initialisation). lr x0.1 at 60 % and 85 % of the 1404 iterations, as the paper's
# epochs 120 and 160 of 200.
_base_ = ['./mocov1_resnet18_1xb256-steplr-1e_fmnist.py']

train_cfg = dict(max_epochs=6)
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[842, 1193], gamma=0.1)
]
custom_hooks = [
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, interval=6,
         before_train=True),
]
