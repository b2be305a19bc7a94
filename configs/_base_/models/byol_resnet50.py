# BYOL: ResNet-50 (SyncBN); projector and predictor MLPs 4096-BN-ReLU-256; the target is
# the EMA of backbone + projector with m from 0.996 to 1 (cosine); loss 2 - 2 cos, summed
# over both view orders.
model = dict(
    type='BYOL',
    ema_momentum=0.996,
    ema_schedule='cosine',
    ema_momentum_end=1.0,
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='SyncBN'),
                  zero_init_residual=False),
    neck=dict(type='NonLinearNeck', in_channels=2048, hid_channels=4096, out_channels=256,
              num_layers=2, with_bias=True, with_last_bn=False, with_last_bias=True,
              with_avg_pool=True),
    head=dict(
        type='PredictorHead',
        predictor=dict(type='NonLinearNeck', in_channels=256, hid_channels=4096,
                       out_channels=256, num_layers=2, with_bias=True, with_last_bn=False,
                       with_last_bias=True, with_avg_pool=False),
        loss=dict(type='CosineRegressionHead', loss='normalized_l2')))
