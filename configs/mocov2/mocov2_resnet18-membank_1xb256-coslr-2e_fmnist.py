# The MoCo v2 Fashion-MNIST demo with the memory-bank mechanism (NPID) instead of the
# momentum encoder and queue: a bank of one 128-d feature per training image (60,000),
# 4096 negatives sampled per query, the proximal update with 0.5. Everything else (encoder,
# loss, views, schedule) is the demo's, so the two runs compare the mechanisms alone; the
# queries keep the demo's 4 BN groups (bn_splits=4; no keys are computed, none shuffled).
_base_ = ['./mocov2_resnet18_1xb256-coslr-2e_fmnist.py']

model = dict(
    dictionary=dict(_delete_=True, type='MemoryBankKeys', size=60000, num_negatives=4096,
                    dim=128),
    ema_momentum=None)
