# Relative location on Fashion-MNIST for the model zoo: the 2-epoch demo
# (relativeloc_resnet18_1xb256-coslr-2e_fmnist.py, comments there) trained 16 epochs, about
# 9 minutes on one CPU thread: the demo's 2 epochs (1.1 min) ended 2.5 standard deviations
# of the random initialisation above it on kNN, and the budget is 20 minutes.
_base_ = ['./relativeloc_resnet18_1xb256-coslr-2e_fmnist.py']

param_scheduler = [dict(type='CosineAnnealingLR', T_max=16, by_epoch=True, begin=0, end=16,
                        convert_to_iter_based=True)]
train_cfg = dict(max_epochs=16)
custom_hooks = [
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, interval=16,
         before_train=True),
]
