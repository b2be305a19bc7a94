# MoCo v3 with ResNet-50 (SyncBN), as the official code builds it: projector
# 4096-BN-ReLU-256-BN (no affine; 2 layers for ResNets, 3 for ViTs), predictor
# 4096-BN-ReLU-256; momentum encoder = EMA of backbone + projector, m from 0.99 to 1
# (cosine); loss ctr(q1, k2) + ctr(q2, k1) with in-batch negatives, tau = 1.0 and the
# 2 tau factor.
temperature = 1.0
model = dict(
    type='MoCoV3',
    ema_momentum=0.99,
    ema_schedule='cosine',
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='SyncBN'),
                  zero_init_residual=True),
    neck=dict(type='NonLinearNeck', in_channels=2048, hid_channels=4096, out_channels=256,
              num_layers=2, with_bias=False, with_last_bn=True, with_last_bn_affine=False,
              with_last_bias=False, with_avg_pool=True),
    head=dict(
        type='PredictorHead',
        predictor=dict(type='NonLinearNeck', in_channels=256, hid_channels=4096,
                       out_channels=256, num_layers=2, with_bias=False, with_last_bn=False,
                       with_last_bias=False, with_avg_pool=False),
        loss=dict(type='InfoNCEHead', temperature=temperature, loss_weight=2 * temperature)))
