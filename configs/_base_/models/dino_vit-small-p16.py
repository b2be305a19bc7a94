# DINO: ViT-S/16 (DeiT-S: 384 wide, 12 blocks, 6 heads; stochastic depth 0.1 in the
# student), projection MLP 384-2048-2048-256, L2-normalised, weight-normalised last layer to
# K=65536; teacher = EMA (m 0.996 -> 1, cosine) on the 2 global views of the 2 + 10 crops;
# tau_s 0.1, tau_t 0.04 -> 0.07 over 30 epochs, centre momentum 0.9.
model = dict(
    type='DINO',
    num_crops=(2, 10),
    ema_momentum=0.996,
    teacher_temperature=0.07,
    warmup_teacher_temperature=0.04,
    warmup_teacher_temperature_epochs=30,  # tau_t's warm-up, by epoch
    freeze_last_layer_epochs=1,  # the last layer frozen over epoch 0
    backbone=dict(type='VisionTransformer', arch='deit-small', patch_size=16, img_size=224,
                  drop_path_rate=0.1, out_type='cls_token'),
    neck=dict(type='DINONeck', in_channels=384, hidden_channels=2048, bottleneck_channels=256,
              out_channels=65536, num_layers=3, norm_last_layer=True),
    head=dict(type='DINOHead', out_channels=65536, student_temperature=0.1,
              center_momentum=0.9))
