# MoCo v2 pretraining of an ImageNet-style ResNet-18 on the three training frames of the
# segmentation set it will be fine-tuned on: frames 00000100-00000102 of the video example of
# Debian's labelme-examples (apt), each seen 64 times in the epoch (24 iterations of 8).
# Frames 00000103-00000104 are held out for the fine-tuned FCN's evaluation
# (configs/benchmarks/mmsegmentation/labelme/, docs/segmentation.md) and are not seen here:
# the folder holds the five frames, and `indices=3` keeps the first three in name order
# (ImageFolder sorts), the training split of
# tools/dataset_converters/prepare_labelme_segmentation.py. A CPU-sized start that shows
# the plumbing, not a useful representation. Everything else is
# mocov2_resnet18_1xb8-coslr-1e_labelme.py's.
_base_ = './mocov2_resnet18_1xb8-coslr-1e_labelme.py'
frames = '/usr/share/doc/labelme-examples/examples/video_annotation/data_annotated'

train_dataloader = dict(
    dataset=dict(dataset=dict(data_root=frames, indices=3)))
