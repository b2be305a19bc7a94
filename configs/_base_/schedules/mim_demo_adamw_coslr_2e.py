# The masked-image-modeling CPU demos on Fashion-MNIST: AdamW lr 1e-3 for a batch of 256,
# betas (0.9, 0.95), wd 0.05 (none on norms, biases, position embedding and tokens), 50
# warm-up iterations then cosine to 0 at the end of epoch 2 (2 x 234 iterations).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, custom_keys={
        'pos_embed': dict(decay_mult=0.0),
        'mask_token': dict(decay_mult=0.0),
        'cls_token': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', T_max=418, by_epoch=False, begin=50, end=468),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2)
auto_scale_lr = dict(base_batch_size=256)
