# Jigsaw on Fashion-MNIST for the model zoo: the 2-epoch demo
# (jigsaw_resnet18_1xb256-coslr-2e_fmnist.py, comments there) trained 6 epochs, about
# 10 minutes on one CPU thread (the demo's 2 epochs took 3.2 min and ended at its random
# initialisation).
_base_ = ['./jigsaw_resnet18_1xb256-coslr-2e_fmnist.py']

param_scheduler = [dict(type='CosineAnnealingLR', T_max=6, by_epoch=True, begin=0, end=6,
                        convert_to_iter_based=True)]
train_cfg = dict(max_epochs=6)
custom_hooks = [
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, interval=6,
         before_train=True),
]
