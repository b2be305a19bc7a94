# DINO on Fashion-MNIST: the model zoo's recipe (at most 20 minutes of training on one CPU
# thread, docs/model_zoo.md). The 3-epoch try (dino_resnet18-mcrop2x24-2x12_1xb128-coslr-
# 3e_fmnist.py: 2 x 24 + 2 x 12 px views, batch 128, the teacher temperature warmed up
# 0.04 -> 0.07 over the first epoch) took 20.7 min and reached only 79.45 % kNN and linear,
# its loss flat near log(4096) once the teacher temperature reached 0.07: the teacher's
# outputs too flat to learn from (docs/sweeps/dino_fmnist.md). Here the official DINO
# code's default for ResNets, a constant teacher temperature 0.04, over 2 epochs (414 s
# each).
_base_ = './dino_resnet18-mcrop2x24-2x12_1xb128-coslr-3e_fmnist.py'

model = dict(teacher_temperature=0.04, warmup_teacher_temperature=0.04,
             warmup_teacher_temperature_epochs=0)
param_scheduler = [dict(type='CosineAnnealingLR', T_max=2, by_epoch=True, begin=0, end=2,
                        convert_to_iter_based=True)]
train_cfg = dict(max_epochs=2)
custom_hooks = [
    dict(type='KNNEvalHook', dataloader={{_base_.knn_dataloader}}, interval=2,
         before_train=True),
]
