# Fashion-MNIST (Debian's dataset-fashion-mnist) at 28 x 28, grey repeated to 3 channels,
# for the classic pretext tasks' CPU demos. The views are made on the CPU by the task's
# transform (rotations, patches, tiles, counting views), so there are no device views;
# each config sets the pipeline and num_views. Labels are not used for training.
_base_ = ['./fashion_mnist_decode_only.py']

train_dataloader = dict(dataset=dict(pipeline=[]))
