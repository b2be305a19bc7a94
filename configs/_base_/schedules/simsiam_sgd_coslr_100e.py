# SimSiam: SGD lr 0.05 x batch/256, momentum 0.9, wd 1e-4, cosine over 100 epochs, except
# for the predictor, which keeps its initial lr: paramwise_cfg puts the predictor's
# parameters in their own group marked fix_lr=True, and FixedGroupLR, the last scheduler,
# sets that group back to its initial lr after every step of the others.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'head.predictor': dict(fix_lr=True)}))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=100, by_epoch=True, begin=0, end=100,
         convert_to_iter_based=True),
    dict(type='FixedGroupLR'),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100)
auto_scale_lr = dict(base_batch_size=256)
