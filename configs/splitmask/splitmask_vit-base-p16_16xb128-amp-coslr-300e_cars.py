# SplitMask pretrained on the target data only (El-Nouby et al. 2021), a fine-grained set:
# the 8,144 train images of Stanford Cars, no labels, as an unlabeled image folder
# (data/stanford_cars/train/<class>/*.jpg: the class folders are only walked through), then
# evaluated on the same set's 196 classes (configs/benchmarks/classification/stanford_cars/:
# a linear probe and a fine-tune; docs/transfer.md). Same recipe as the ImageNet
# and COCO configs: ViT-B/16, 16 GPUs x 128 = 2048, BEiT's optimiser and augmentation.
# 300 epochs: the paper's ViT-S/B pretraining length; its schedule for Cars in particular
# is not in our notes, so this is an assumption. At 2048 per batch that is 3 iterations
# per epoch (900 in all, 30 of warm-up): for more updates, fewer GPUs or more epochs, e.g.
# --cfg-options train_cfg.max_epochs=... and the schedule's end/T_max with it.
# tools/test.py THIS_CONFIG CKPT: kNN (k 20) of the test images against the train images.
_base_ = './splitmask_vit-base-p16_16xb128-amp-coslr-300e_in1k.py'

data_root = 'data/stanford_cars/'
train_dataloader = dict(dataset=dict(type='ImageFolder', data_root=data_root + 'train/'))

knn_pipeline = {{_base_.knn_pipeline}}
test_dataloader = dict(dataset=dict(
    bank=dict(_delete_=True, type='CustomDataset', data_root=data_root, data_prefix='train',
              pipeline=knn_pipeline),
    query=dict(_delete_=True, type='CustomDataset', data_root=data_root, data_prefix='test',
               pipeline=knn_pipeline)))
