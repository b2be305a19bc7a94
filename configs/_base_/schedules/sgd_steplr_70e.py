# The pretext tasks' ResNet-50 schedule (MMSelfSup's for relative location and rotation):
# SGD lr 0.2 for a batch of 512, momentum 0.9, wd 1e-4; lr x0.1 at epochs 30 and 50.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[30, 50], gamma=0.1)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=70)
auto_scale_lr = dict(base_batch_size=512)
