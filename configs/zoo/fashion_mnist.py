# The Fashion-MNIST model zoo: the rows tools/analysis/train_zoo.py trains and evaluates.
# Each row: name (also its folder under the zoo dir), config (the recipe, relative to the
# repository), seeds, pretrain=False for the random-initialisation baseline of a
# backbone (the config's backbone evaluated untrained), main=True for the rows plotted.
dataset = 'Fashion-MNIST'
resources = '2 CPU cores, 1 thread per run'
raw_pixels_knn = 84.07
results = 'docs/model_zoo/results.csv'
markdown = 'docs/model_zoo.md'
metafile = 'configs/zoo/metafile.yml'
model_index = 'model-index.yml'
plot = 'docs/model_zoo/knn_vs_time.png'

rows = [
    dict(name='mocov2_resnet18-cifar-w16_bs128-7e',
         config='configs/mocov2/mocov2_resnet18_1xb128-coslr-7e_fmnist.py',
         seeds=[0, 1, 2], main=True),
    dict(name='mocov2_resnet18-cifar-w16_8e',
         config='configs/mocov2/mocov2_resnet18_1xb256-coslr-8e_fmnist.py',
         seeds=[0, 1, 2], main=True),
    dict(name='simclr_resnet18-cifar-w16_bs128-5e',
         config='configs/simclr/simclr_resnet18_1xb128-coslr-5e_fmnist.py',
         seeds=[0, 1, 2], main=True),
    dict(name='barlowtwins_resnet18-cifar-w16_bs128-4e',
         config='configs/barlowtwins/barlowtwins_resnet18_1xb128-coslr-4e_fmnist.py',
         seeds=[0, 1, 2], main=True),
    dict(name='byol_resnet18-cifar-w16_bs128-3e',
         config='configs/byol/byol_resnet18_1xb128-coslr-3e_fmnist.py',
         seeds=[0, 1, 2], main=True),
    dict(name='dino_resnet18-cifar-w16_mcrop2x24-2x12_bs128-2e',
         config='configs/dino/dino_resnet18-mcrop2x24-2x12_1xb128-coslr-2e_fmnist.py',
         seeds=[0, 1, 2], main=True),
    dict(name='mae_vit-tiny-p4_bs128-5e',
         config='configs/mae/mae_vit-tiny-p4_1xb128-coslr-5e_fmnist.py',
         seeds=[0, 1, 2], main=True),
    dict(name='mae_vit-tiny-p4-24px_bs128-8e',
         config='configs/mae/mae_vit-tiny-p4-24px_1xb128-coslr-8e_fmnist.py',
         seeds=[0, 1, 2], main=True),
    dict(name='splitmask_vit-tiny-p4-24px_bs128-3e',
         config='configs/splitmask/splitmask_vit-tiny-p4_1xb128-coslr-3e_fmnist.py',
         seeds=[0, 1, 2], main=True),
    dict(name='mocov2_resnet18-cifar-w32_2e',
         config='configs/mocov2/mocov2_resnet18-w32_1xb256-coslr-2e_fmnist.py',
         seeds=[0], main=True),
    dict(name='mocov2_resnet18-cifar-w16_demo-2e',
         config='configs/mocov2/mocov2_resnet18_1xb256-coslr-2e_fmnist.py',
         seeds=[0, 1, 2], main=True),
    dict(name='random-init_resnet18-cifar-w16',
         config='configs/mocov2/mocov2_resnet18_1xb256-coslr-2e_fmnist.py',
         seeds=[0, 1, 2], pretrain=False),
    dict(name='random-init_resnet18-cifar-w32',
         config='configs/mocov2/mocov2_resnet18-w32_1xb256-coslr-2e_fmnist.py',
         seeds=[0, 1, 2], pretrain=False),
    dict(name='random-init_resnet18-cifar-w16-zero-init-residual',
         config='configs/barlowtwins/barlowtwins_resnet18_1xb128-coslr-4e_fmnist.py',
         seeds=[0, 1, 2], pretrain=False),
    dict(name='random-init_vit-tiny-p4-sincos',
         config='configs/mae/mae_vit-tiny-p4_1xb128-coslr-5e_fmnist.py',
         seeds=[0, 1, 2], pretrain=False),
    dict(name='random-init_vit-tiny-p4-24px',
         config='configs/splitmask/splitmask_vit-tiny-p4_1xb128-coslr-3e_fmnist.py',
         seeds=[0, 1, 2], pretrain=False),
    dict(name='random-init_vit-tiny-p4-24px-sincos',
         config='configs/mae/mae_vit-tiny-p4-24px_1xb128-coslr-8e_fmnist.py',
         seeds=[0, 1, 2], pretrain=False),
]
