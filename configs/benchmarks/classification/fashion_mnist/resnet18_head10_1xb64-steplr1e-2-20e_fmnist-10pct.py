# Semi-supervised classification on Fashion-MNIST with 10 % of the labels, on a CPU: the CPU
# variant of imagenet/imagenet_10percent/. The whole demo backbone (ResNet_CIFAR-18, width
# 16) and a new linear head are fine-tuned (every layer trains, BN in training mode) on a
# class-balanced 10 % of the training images (600 per class, 6,000 in all), then the 10,000
# test images are classified: top-1/top-5.
# MMSelfSup's semi-supervised recipe at batch 64: SGD momentum 0.9, weight decay 5e-4,
# 20 epochs, lr x0.2 at epochs 12 and 16, backbone lr 0.01 and head lr 10 x that (head10,
# 1e-2 in the name). The subset file (one "<index> <label>" line per image) is made once by
#   python tools/dataset_converters/make_label_subsets.py fashion-mnist
# (seeded, class-balanced; the rule: docs/benchmarks.md), then
#   python tools/train.py THIS_CONFIG --work-dir work_dirs/semi10_fmnist \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/demo/epoch_2.pth
# (model.backbone.init_cfg=None: trained from a random initialisation instead).
_base_ = './resnet18_head10_1xb64-steplr1e-2-20e_fmnist-1pct.py'

label_subset = 'data/fashion_mnist_subsets/10percent.txt'
train_dataloader = dict(dataset=dict(subset_file=label_subset))
