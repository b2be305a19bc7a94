# DINO ViT-S/16, 100 epochs: AdamW, lr 0.0005 x batch / 256 (0.001 at 512) after a linear
# 10-epoch warm-up, cosine down to 1e-6; weight decay 0.04 -> 0.4 on a cosine (biases and
# norms none); gradients clipped at norm 3. Not the official code's clipping: it scales
# each parameter's gradient to norm <= 3 on its own; mmengine's clip_grad here clips the
# global norm of all gradients together (documented in docs/parity.md).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.001, betas=(0.9, 0.999), weight_decay=0.04),
    clip_grad=dict(max_norm=3.0),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=90, eta_min=1e-6, by_epoch=True, begin=10, end=100,
         convert_to_iter_based=True),
    # weight decay x10 over the run; groups without decay (ratio x 0) stay at 0.
    dict(type='CosineAnnealingParamScheduler', param_name='weight_decay', eta_min_ratio=10.0,
         by_epoch=True, begin=0, end=100, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100)
auto_scale_lr = dict(base_batch_size=512)
