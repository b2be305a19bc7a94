# The Fashion-MNIST model zoo: the rows tools/analysis/train_zoo.py trains and evaluates.
# Each row: name (also its folder under the zoo dir), config (the recipe, relative to the
# repository), seeds, pretrain=False for the random-initialisation baseline of a
# backbone (the config's backbone evaluated untrained), main=True for the rows plotted.
title = '# Model zoo: Fashion-MNIST on 2 CPU cores'
intro = """
Every figure is the full protocol on Fashion-MNIST (Debian's `dataset-fashion-mnist`):
kNN top-1 (k = 20, τ 0.07) with all 60,000 training images as the bank and all 10,000
test images as queries, and the top-1 of a linear probe fitted on the 60,000 training
images' frozen features and tested on the 10,000 (softmax regression on standardised
features, L2 penalty chosen on a held-out sixth of the training images:
`mmssl.apis.evaluate_backbone`). Mean ± sample standard deviation over the seeds listed.
Raw pixels score 84.07 % kNN top-1 on the same protocol.

Training time is the wall-clock time of `tools/train.py` with one thread, two runs side by
side on 2 CPU cores (the budget of each recipe is at most 20 minutes). Checkpoints are not
committed: the command below a table trains a row into `work_dirs/zoo/<row>/seed<s>/`
(its checkpoint is the file named in `last_checkpoint` there), and the figures land in
`docs/model_zoo/results.csv`. `python tools/analysis/train_zoo.py --jobs 2 --threads 1`
trains the whole zoo, resuming a half-done one.
"""
dataset = 'Fashion-MNIST'
resources = '2 CPU cores, 1 thread per run'
raw_pixels_knn = 84.07
results = 'docs/model_zoo/results.csv'
markdown = 'docs/model_zoo.md'
metafile = 'configs/zoo/metafile.yml'
model_index = 'model-index.yml'
plot = 'docs/model_zoo/knn_vs_time.png'

rows = [
    dict(name='random-init_resnet18-cifar-w16',
         config='configs/mocov2/mocov2_resnet18_1xb256-coslr-2e_fmnist.py',
         seeds=[0, 1, 2], pretrain=False),
    dict(name='mocov2_resnet18-cifar-w16_demo-2e',
         config='configs/mocov2/mocov2_resnet18_1xb256-coslr-2e_fmnist.py',
         seeds=[0, 1, 2], main=True),
]
