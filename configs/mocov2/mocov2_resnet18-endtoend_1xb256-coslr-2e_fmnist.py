# The MoCo v2 Fashion-MNIST demo with the end-to-end mechanism: the query encoder computes
# the keys too (with gradients) and the other 255 keys of the batch are the negatives.
# Everything else is the demo's, so the two runs compare the mechanisms alone; that includes
# Shuffling BN in 4 groups (bn_splits=4), which reorders these keys too, as in the MoCo
# paper's end-to-end baseline.
_base_ = ['./mocov2_resnet18_1xb256-coslr-2e_fmnist.py']

model = dict(dictionary=dict(_delete_=True, type='InBatchKeys'), ema_momentum=None)
