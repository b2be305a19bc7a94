# The memory-bank mechanism of the MoCo paper's comparison (NPID, Wu et al. 2018) on MoCo
# v1's setting: the same encoder, loss (InfoNCE, tau 0.07) and schedule; instead of a
# momentum key encoder and a queue, a bank of one 128-d feature per ImageNet-1k training
# image, m=4096 negatives sampled per query, the proximal update v <- norm(0.5 v + 0.5 f).
# model.dictionary.size must equal the number of training images (ImageNet-1k: 1,281,167).
_base_ = ['./mocov1_resnet50_8xb32-steplr-200e_in1k.py']

model = dict(
    dictionary=dict(_delete_=True, type='MemoryBankKeys', size=1281167, num_negatives=4096,
                    dim=128, proximal_weight=0.5),
    ema_momentum=None)
