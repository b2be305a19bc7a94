# SwAV: ResNet-50 (SyncBN), projection fc(2048)-BN-ReLU-fc(128), L2-normalised; 3000
# prototypes, tau 0.1; codes by 3 Sinkhorn-Knopp iterations (eps 0.05) on the 2 global views
# of the 2 + 6 crops. Batch 256: a queue of 3840 features per global view from epoch 15.
model = dict(
    type='SwAV',
    num_crops=(2, 6),
    queue_length=3840,
    queue_start_epoch=15,
    # Prototypes frozen over the first epoch: 5005 iterations at batch 256 (313 at 4096).
    freeze_prototypes_iters=5005,
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='SyncBN'),
                  zero_init_residual=True),
    neck=dict(type='SwAVNeck', in_channels=2048, hid_channels=2048, out_channels=128,
              with_avg_pool=True),
    head=dict(type='SwAVHead', feat_dim=128, num_prototypes=3000, temperature=0.1,
              epsilon=0.05, sinkhorn_iterations=3))
