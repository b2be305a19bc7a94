# SplitMask pretrained on the target data only (El-Nouby et al. 2021): the ~118k images of
# COCO train2017, no labels, as an unlabeled image folder (data/coco/train2017/, mmdet's
# layout), then fine-tuned in mmdet on the same images. Same recipe as the ImageNet
# config: ViT-B/16, 16 GPUs x 128 = 2048, 300 epochs, BEiT's optimiser and augmentation.
# The paper's point: BEiT/SplitMask pretrained on COCO alone beat supervised ImageNet
# pretraining for Mask R-CNN on COCO.
_base_ = './splitmask_vit-base-p16_16xb128-amp-coslr-300e_in1k.py'

train_dataloader = dict(dataset=dict(type='ImageFolder', data_root='data/coco/train2017/'))
