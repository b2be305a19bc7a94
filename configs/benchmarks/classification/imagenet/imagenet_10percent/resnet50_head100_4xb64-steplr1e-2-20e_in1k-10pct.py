# Semi-supervised classification on ImageNet-1k with 10 % of the labels: fine-tune the
# whole pretrained ResNet-50 (every layer trains, BN in training mode) on the class-
# balanced 10 % subset (about 128,000 images), evaluate on the full validation set.
# MMSelfSup's setting (configs/benchmarks/classification/imagenet/imagenet_10percent/):
# SGD momentum 0.9, weight decay 5e-4, batch 256 (4 GPUs x 64, SyncBN), 20 epochs, lr x0.2
# at epochs 12 and 16; the backbone at lr 0.01 and the newly initialised head at 100 x
# that (lr 1.0), as the name says (head100, 1e-2). MMSelfSup swept the backbone lr over
# {0.1, 0.01, 0.001} and the head multiplier over {1, 10, 100} and reported the best; e.g.
#   --cfg-options optim_wrapper.optimizer.lr=0.001 \
#       optim_wrapper.paramwise_cfg.custom_keys.head.lr_mult=10
# The subset file (one "<path> <label>" line per image, as meta/train.txt) is made once by
#   python tools/dataset_converters/make_label_subsets.py imagenet --data-root data/imagenet
# (seeded, class-balanced: docs/benchmarks.md), then
#   python tools/train.py THIS_CONFIG \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/mocov2/epoch_200.pth
_base_ = '../imagenet_1percent/resnet50_head100_4xb64-steplr1e-2-20e_in1k-1pct.py'

train_dataloader = dict(dataset=dict(ann_file='meta/train_10percent.txt'))
