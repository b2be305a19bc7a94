# The baseline of multi-task self-supervision (Doersch & Zisserman, ICCV 2017): the paper's
# "naive shared trunk", every task's head on the output of the trunk's last block, no
# lasso combination and no L1 penalty. Everything else (tasks, views, heads, optimiser,
# schedule, what is ours) as multitasklasso_resnet50_8xb32-steplr-70e_in1k.py, so that the
# two runs differ only by the lasso. Ours: the last block's output goes through the same
# 1 x 1 projection and 6 x 6 pooling as each block of the lasso config (alpha fixed to 1).
_base_ = './multitasklasso_resnet50_8xb32-steplr-70e_in1k.py'

model = dict(
    backbone=dict(out_indices=(3, )),
    neck=dict(in_channels=[2048], alpha_init=1.0, learn_alpha=False),
    l1_weight=0.0)

optim_wrapper = dict(paramwise_cfg=dict(_delete_=True))
