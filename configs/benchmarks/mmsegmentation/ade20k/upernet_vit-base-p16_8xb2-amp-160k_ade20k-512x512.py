# UperNet with a ViT-B/16 on ADE20K (20,210 train images, 150 classes; mIoU on the 2,000
# val images, sliding 512 x 512 windows), fine-tuned from an mmssl-pretrained ViT (BEiT,
# MAE, SplitMask: configs/{beit,mae,splitmask}/, then tools/model_converters/extract_backbone.py).
# The papers' protocol (BEiT's, which MAE and SplitMask follow for ADE20K): UperNet on the
# ViT-B/16's features, 512 x 512 crops, batch 16 (8 GPUs x 2), AdamW with layer-wise lr
# decay (0.65 in BEiT), 160k iterations (BEiT; MAE: 100 epochs), the peak lr searched per
# model (see paper).
# mmseg's values for it, kept (mmseg's mae-base_upernet_8xb2-amp-160k_ade20k-512x512): the
# features of blocks 4, 6, 8 and 12 resampled to strides 4, 8, 16, 32 (Feature2Pyramid),
# an auxiliary FCN head on block 8, AdamW lr 1e-4, wd 0.05, 1500 linear warm-up iterations
# then poly decay, drop path 0.1, layer scale initialised to 1 and relative position bias
# to 0 (an mmssl ViT has neither: the loaded blocks start computing what they computed in
# pretraining). Ours: mixed precision in the optimiser wrapper (mmseg's file names it but
# leaves it to --amp).
# The backbone is mmseg's MAE (a ViT with absolute position embedding, like mmssl's); mmseg's
# layer-decay constructor (LearningRateDecayOptimizerConstructor, decay_type layer_wise_vit:
# what mmseg's file asks for under the deprecated name LayerDecayOptimizerConstructor)
# decays by block only for backbones named BEiT, MAE or ConvNeXt: block i (0-11) gets
# lr x 0.65 ** (12 - i), the patch and position embedding and the class token 0.65 ** 13,
# the neck and heads the full lr; no weight decay on biases and norms (mmseg's rule, which
# misses pos_embed and cls_token: their names carry the prefix backbone.). The 14 x 14
# position embedding of a 224-px checkpoint is resized to 32 x 32 when it loads
# (mmssl.PretrainedBackbone).
# Start it with tools/benchmark/mmsegmentation/dist_train.sh (docs/segmentation.md).
_base_ = 'mmseg::mae/mae-base_upernet_8xb2-amp-160k_ade20k-512x512.py'
custom_imports = dict(imports=['mmssl.seg'], allow_failed_imports=False)

# The backbone from tools/model_converters/extract_backbone.py (or an mmssl checkpoint).
pretrained = 'work_dirs/pretrained/backbone.pth'
model = dict(
    pretrained=None,
    backbone=dict(init_cfg=dict(type='mmssl.PretrainedBackbone', checkpoint=pretrained)))
optim_wrapper = dict(
    type='AmpOptimWrapper', loss_scale='dynamic',
    constructor='LearningRateDecayOptimizerConstructor',
    paramwise_cfg=dict(_delete_=True, num_layers=12, decay_rate=0.65,
                       decay_type='layer_wise_vit'))
