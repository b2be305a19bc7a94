# Barlow Twins on ImageNet-1k with the 1000-epoch recipe shortened to 300 epochs (the
# paper's ablation length; mmpretrain's main config): 10 warm-up epochs, cosine over 290.
_base_ = './barlowtwins_resnet50_8xb256-coslr-1000e_in1k.py'

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=290, eta_min_ratio=1e-3, by_epoch=True, begin=10,
         end=300, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=300)
