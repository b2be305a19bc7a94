# SimSiam: ResNet-50 (SyncBN); projector 3 x (fc 2048 + BN), ReLU between, the last BN
# without affine; bottleneck predictor 2048-512-BN-ReLU-2048; loss
# D(p1, sg(z2)) / 2 + D(p2, sg(z1)) / 2 with D the negative cosine. No target network.
model = dict(
    type='SimSiam',
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='SyncBN'),
                  zero_init_residual=True),
    neck=dict(type='NonLinearNeck', in_channels=2048, hid_channels=2048, out_channels=2048,
              num_layers=3, with_bias=False, with_last_bn=True, with_last_bn_affine=False,
              with_last_bias=False, with_avg_pool=True),
    head=dict(
        type='PredictorHead',
        predictor=dict(type='NonLinearNeck', in_channels=2048, hid_channels=512,
                       out_channels=2048, num_layers=2, with_bias=False, with_last_bn=False,
                       with_last_bias=True, with_avg_pool=False),
        loss=dict(type='CosineRegressionHead', loss='negative_cosine', loss_weight=0.5)))
