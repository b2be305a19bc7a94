# Barlow Twins: LARS (momentum 0.9) with lr 0.2 x batch/256 for the weights (1.6 for 2048)
# and 0.0048 x batch/256 for biases and BN parameters (lr_mult 0.024), which are also left
# out of weight decay (1.5e-6) and of LARS's adaptation; 10 warm-up epochs, then cosine down
# to 1/1000 of the lr.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='LARS', lr=1.6, momentum=0.9, weight_decay=1.5e-6),
    paramwise_cfg=dict(custom_keys={
        'bn': dict(decay_mult=0, lr_mult=0.024, lars_exclude=True),
        'bias': dict(decay_mult=0, lr_mult=0.024, lars_exclude=True),
        'downsample.1': dict(decay_mult=0, lr_mult=0.024, lars_exclude=True),
    }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=990, eta_min_ratio=1e-3, by_epoch=True, begin=10,
         end=1000, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1000)
auto_scale_lr = dict(base_batch_size=2048)
