# Barlow Twins: ResNet-50 (SyncBN); projector 8192-BN-ReLU-8192-BN-ReLU-8192 (no biases);
# loss sum_i (1 - C_ii)^2 + 0.0051 sum_{i!=j} C_ij^2 on the cross-correlation matrix of the
# batch-standardised embeddings of the global batch.
model = dict(
    type='BarlowTwins',
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='SyncBN'),
                  zero_init_residual=True),
    neck=dict(type='NonLinearNeck', in_channels=2048, hid_channels=8192, out_channels=8192,
              num_layers=3, with_bias=False, with_last_bn=False, with_last_bias=False,
              with_avg_pool=True),
    head=dict(type='BarlowTwinsHead', lambd=0.0051))
