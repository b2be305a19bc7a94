# The end-to-end mechanism of the MoCo paper's comparison on MoCo v1's setting: the query
# encoder also computes the keys (with gradients) and the negatives are the other keys of
# the global batch, so K = 255 at a batch of 256 (the paper's end-to-end curve goes up to
# K = 1024, a batch of 1024 with the lr scaled linearly: train with --auto-scale-lr).
_base_ = ['./mocov1_resnet50_8xb32-steplr-200e_in1k.py']

# (No target network: no EMA runs.)
model = dict(dictionary=dict(_delete_=True, type='InBatchKeys'), ema_momentum=None)
