# BEiT pretrained on the target data only (as in El-Nouby et al. 2021): COCO train2017's
# images, no labels, as an unlabeled image folder (data/coco/train2017/), same recipe as
# the ImageNet config (ViT-B/16, 2048 per batch, 300 epochs).
_base_ = './beit_vit-base-p16_16xb128-amp-coslr-300e_in1k.py'

train_dataloader = dict(dataset=dict(type='ImageFolder', data_root='data/coco/train2017/'))
