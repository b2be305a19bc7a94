# MoCo v2: MoCo v1 with an MLP head (2048-2048-ReLU-128) and tau 0.2.
_base_ = './mocov1_resnet50.py'

model = dict(
    neck=dict(_delete_=True, type='MoCoV2Neck', in_channels=2048, hid_channels=2048,
              out_channels=128, with_avg_pool=True),
    head=dict(temperature=0.2))
