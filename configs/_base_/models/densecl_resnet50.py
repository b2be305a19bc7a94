# DenseCL: MoCo v2 plus a dense branch. ResNet-50, DenseCLNeck (global MLP 2048-2048-128 on
# the pooled map, 1x1-conv MLP 2048-2048-128 on the 7 x 7 map), tau 0.2, two queues of
# K=65536, m=0.999, lambda 0.5 with the dense loss held at weight 0 for 1000 iterations.
model = dict(
    type='DenseCL',
    queue_length=65536,
    feat_dim=128,
    ema_momentum=0.999,
    loss_lambda=0.5,
    dense_loss_start_iter=1000,  # the authors' warm-up: lambda 0 for the first 1000 iterations
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='DenseCLNeck', in_channels=2048, hid_channels=2048, out_channels=128,
              num_grid=None),
    head=dict(type='InfoNCEHead', temperature=0.2))
