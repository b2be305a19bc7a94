# MoCo v1: ResNet-50, linear fc to 128-d, tau 0.07, K=65536, m=0.999.
model = dict(
    type='MoCo',
    # The MoCo mechanism: a momentum key encoder and a queue of K keys.
    dictionary=dict(type='QueueKeys', queue_length=65536, dim=128),
    ema_momentum=0.999,  # the key encoder follows the query encoder after every iteration
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='LinearNeck', in_channels=2048, out_channels=128, gap_dim=2,
              norm_cfg=None),
    head=dict(type='InfoNCEHead', temperature=0.07))
