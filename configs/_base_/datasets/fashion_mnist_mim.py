# Fashion-MNIST (Debian's dataset-fashion-mnist, read from its IDX files) for masked image
# modeling demos on a CPU: one view per image, made on the device for the whole batch, a
# random-resized crop (scale 0.35-1) resized to 32 px, so that 4-px patches make an 8 x 8
# grid that SimMIM's mask blocks (8 px here) and SplitMask's halves divide evenly, and a
# horizontal flip. Grey repeated to 3 channels; labels are not used in pretraining.
_base_ = ['./fashion_mnist_decode_only.py']

view_size = 32

data_preprocessor = dict(
    num_views=1,
    device_views=[
        dict(type='BatchRandomResizedCrop', size=view_size, scale=(0.35, 1.0)),
        dict(type='BatchRandomFlip', prob=0.5),
    ])
