# SwAV's 200-epoch recipe at batch 256 (its repository's bs-256 script): LARS (trust 0.001,
# on all parameters, as its LARC wrapper), lr 0.6, momentum 0.9, wd 1e-6, no warm-up,
# cosine down to 0.0006.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='LARS', lr=0.6, momentum=0.9, weight_decay=1e-6, eta=0.001))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=200, eta_min=6e-4, by_epoch=True, begin=0, end=200,
         convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200)
auto_scale_lr = dict(base_batch_size=256)
