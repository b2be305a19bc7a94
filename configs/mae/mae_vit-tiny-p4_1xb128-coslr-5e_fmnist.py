# MAE on Fashion-MNIST: the model zoo's recipe (at most 20 minutes of training on one CPU
# thread, docs/model_zoo.md). The 2-epoch demo (mae_vit-tiny-p4_1xb256-coslr-2e_fmnist.py,
# comments there: ViT-tiny, 4-px patches on 32-px views, 75 % masked) at batch 128 (more
# steps per epoch) with the same lr 1e-3 (twice the linear scaling, as the other zoo
# recipes), 5 epochs (196 s each): 100 warm-up iterations, then cosine to 0.
_base_ = './mae_vit-tiny-p4_1xb256-coslr-2e_fmnist.py'

train_dataloader = dict(batch_size=128)
auto_scale_lr = dict(base_batch_size=128)
param_scheduler = [  # 468 iterations per epoch
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', T_max=2240, by_epoch=False, begin=100, end=2340),
]
train_cfg = dict(max_epochs=5)
custom_hooks = [
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, interval=5,
         before_train=True),
]
