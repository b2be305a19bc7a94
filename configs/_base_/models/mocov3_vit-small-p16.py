# MoCo v3 with ViT-Small/16 (12 heads, mmpretrain's MoCoV3ViT): a frozen random patch
# projection (stop_grad_conv1), fixed 2-D sin-cos position embedding, the class token as
# the feature; projector 3 layers 4096-4096-256 and predictor 4096-256, each fc followed by
# BN (the last without affine); m from 0.99 to 1 (cosine); tau = 0.2 and the 2 tau factor.
temperature = 0.2
model = dict(
    type='MoCoV3',
    ema_momentum=0.99,
    ema_schedule='cosine',
    backbone=dict(type='MoCoV3ViT', arch='mocov3-small', img_size=224, patch_size=16,
                  stop_grad_conv1=True),
    neck=dict(type='NonLinearNeck', in_channels=384, hid_channels=4096, out_channels=256,
              num_layers=3, with_bias=False, with_last_bn=True, with_last_bn_affine=False,
              with_last_bias=False, with_avg_pool=False),
    head=dict(
        type='PredictorHead',
        predictor=dict(type='NonLinearNeck', in_channels=256, hid_channels=4096,
                       out_channels=256, num_layers=2, with_bias=False, with_last_bn=True,
                       with_last_bn_affine=False, with_last_bias=False, with_avg_pool=False),
        loss=dict(type='InfoNCEHead', temperature=temperature, loss_weight=2 * temperature)))
