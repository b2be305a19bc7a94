"""Write the 1 % and 10 % label subsets of the semi-supervised classification benchmarks.

    python tools/dataset_converters/make_label_subsets.py imagenet \\
        [--data-root data/imagenet] [--ann-file meta/train.txt] [--out-dir data/imagenet/meta]
        [--percents 1 10] [--seed 0]
    python tools/dataset_converters/make_label_subsets.py fashion-mnist \\
        [--data-root /usr/share/datasets/fashion-mnist] [--out-dir data/fashion_mnist_subsets]
        [--percents 1 10] [--seed 0]

The rule (the same for every dataset; ``label_subsets`` below):

1. The training samples are grouped by class and, within a class, sorted by their key:
   the image path relative to the train folder (ImageNet), the index of the image in the
   IDX file (Fashion-MNIST). The order of the input list does not matter.
2. Each class ``c`` gets one random permutation of its ``n_c`` samples, drawn from
   ``numpy.random.default_rng([seed, c])``: a generator per class, so a class's draw does
   not depend on the other classes.
3. The ``p`` % subset takes the first ``k_c = max(1, floor(p * n_c / 100 + 1/2))``
   samples of that permutation (``p * n_c / 100`` rounded half up, in exact rational
   arithmetic): the same fraction of every class (class-balanced), and, for one seed, the
   1 % subset is part of the 10 % subset.
4. A subset file lists the chosen samples sorted by key, one ``<key> <label>`` line each.

Fashion-MNIST (6,000 training images per class): ``1percent.txt`` holds 60 images per
class (600), ``10percent.txt`` 600 per class (6,000). ImageNet-1k (732 to 1,300 images per
class): ``train_1percent.txt`` holds 7 to 13 per class (about 12,800), in the format of
mmpretrain's ``meta/train.txt`` (``n01440764/n01440764_10026.JPEG 0``), so the ``ImageNet``
dataset reads it as its ``ann_file``. ImageNet labels are read from ``--ann-file``
(default ``meta/train.txt`` under ``--data-root``) or, without one, from the class folders
of ``train/`` in sorted order (mmpretrain's numbering). Each file is written to a
temporary file, flushed and renamed: a reader never sees half a file.
"""
import argparse
import math
import os
import os.path as osp
import sys
from collections import defaultdict
from fractions import Fraction
from typing import Hashable, Sequence

import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)
from mmssl.utils import atomic_write_text  # noqa: E402

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp')
DEFAULT_OUT_DIR = {'imagenet': 'data/imagenet/meta', 'fashion-mnist': 'data/fashion_mnist_subsets'}
DEFAULT_DATA_ROOT = {'imagenet': 'data/imagenet',
                     'fashion-mnist': '/usr/share/datasets/fashion-mnist'}


def per_class_count(percent: float, num_samples: int) -> int:
    """How many of a class's ``num_samples`` the ``percent`` % subset keeps (at least one):
    ``percent * num_samples / 100`` rounded half up, computed exactly."""
    exact = Fraction(str(percent)) * num_samples / 100
    return max(1, math.floor(exact + Fraction(1, 2)))


def label_subsets(samples: Sequence[tuple[Hashable, int]], percents: Sequence[float],
                  seed: int = 0) -> dict[float, list[tuple[Hashable, int]]]:
    """The class-balanced ``p`` % subset of ``samples`` for each ``p`` in ``percents``.

    samples: (key, label) pairs, keys unique and sortable (paths, indices).
    Returns {p: the chosen (key, label) pairs sorted by key}; see the module docstring
    for the rule.

    Raises:
        ValueError: for a percentage outside (0, 100] or a repeated key.
    """
    for percent in percents:
        if not 0 < percent <= 100:
            raise ValueError(f'subset percentages must be in (0, 100], got {percent}')
    by_class = defaultdict(list)
    for key, label in samples:
        by_class[int(label)].append(key)
    if sum(len(keys) for keys in by_class.values()) != len(set(key for key, _ in samples)):
        raise ValueError('label_subsets: the samples repeat a key')
    subsets = {percent: [] for percent in percents}
    for label in sorted(by_class):
        keys = sorted(by_class[label])
        order = np.random.default_rng([seed, label]).permutation(len(keys))
        for percent in percents:
            count = per_class_count(percent, len(keys))
            subsets[percent].extend((keys[i], label) for i in order[:count])
    return {percent: sorted(chosen) for percent, chosen in subsets.items()}


def imagenet_samples(data_root: str, ann_file: str | None = None) -> list[tuple[str, int]]:
    """(path relative to ``train/``, label) of ImageNet's training images.

    From ``ann_file`` (relative to ``data_root`` unless absolute; lines ``<path> <label>``),
    else ``meta/train.txt`` if it exists, else the class folders of ``train/`` (sorted;
    label = folder rank, as mmpretrain numbers them).

    Raises:
        FileNotFoundError: naming what was looked for, if there is neither.
        ValueError: naming the file and line of a malformed line.
    """
    if ann_file is None and osp.isfile(osp.join(data_root, 'meta', 'train.txt')):
        ann_file = 'meta/train.txt'
    if ann_file is not None:
        path = ann_file if osp.isabs(ann_file) else osp.join(data_root, ann_file)
        if not osp.isfile(path):
            raise FileNotFoundError(f'ImageNet train list not found: {path}')
        samples = []
        with open(path) as f:
            for num, line in enumerate(f, 1):
                if not line.strip():
                    continue
                parts = line.rsplit(maxsplit=1)
                if len(parts) != 2 or not parts[1].lstrip('-').isdigit():
                    raise ValueError(f"{path}:{num}: expected '<path> <label>', "
                                     f'got {line.strip()!r}')
                samples.append((parts[0], int(parts[1])))
        return samples
    train = osp.join(data_root, 'train')
    if not osp.isdir(train):
        raise FileNotFoundError(f'neither {osp.join(data_root, "meta", "train.txt")} nor the '
                                f'class folders {train}/ exist; set --data-root or --ann-file')
    classes = sorted(d.name for d in os.scandir(train) if d.is_dir())
    if not classes:
        raise FileNotFoundError(f'{train} has no class folders')
    samples = []
    for label, name in enumerate(classes):
        for folder, _, files in os.walk(osp.join(train, name)):
            rel = osp.relpath(folder, train)
            samples.extend((osp.join(rel, file).replace(os.sep, '/'), label)
                           for file in files if file.lower().endswith(IMAGE_EXTENSIONS))
    return samples


def fashion_mnist_samples(data_root: str) -> list[tuple[int, int]]:
    """(index, label) of the 60,000 Fashion-MNIST training images, from the IDX labels."""
    from mmssl.datasets import read_idx
    path = osp.join(data_root, 'train-labels-idx1-ubyte.gz')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found; install Debian\'s dataset-fashion-mnist '
                                f'or set --data-root')
    return [(i, int(label)) for i, label in enumerate(read_idx(path))]


def subset_file_name(dataset: str, percent: float) -> str:
    """``1percent.txt`` (Fashion-MNIST) or ``train_1percent.txt`` (ImageNet, as MMSelfSup)."""
    name = f'{percent:g}percent.txt'
    return f'train_{name}' if dataset == 'imagenet' else name


def write_subsets(dataset: str, samples: Sequence[tuple[Hashable, int]], out_dir: str,
                  percents: Sequence[float], seed: int = 0) -> dict[float, str]:
    """Write one subset file per percentage into ``out_dir``; returns {p: path}."""
    os.makedirs(out_dir, exist_ok=True)
    paths = {}
    for percent, chosen in label_subsets(samples, percents, seed).items():
        path = osp.join(out_dir, subset_file_name(dataset, percent))
        atomic_write_text(path, ''.join(f'{key} {label}\n' for key, label in chosen))
        paths[percent] = path
        counts = np.bincount([label for _, label in chosen])
        print(f'{path}: {len(chosen)} of {len(samples)} samples, {counts.min()} to '
              f'{counts.max()} per class (seed {seed})')
    return paths


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write class-balanced, seeded label subsets (1 %% and 10 %% by default)')
    parser.add_argument('dataset', choices=['imagenet', 'fashion-mnist'])
    parser.add_argument('--data-root', help='imagenet: data/imagenet; fashion-mnist: the '
                        'folder of the IDX files (/usr/share/datasets/fashion-mnist)')
    parser.add_argument('--ann-file', help='imagenet: the train list, relative to '
                        '--data-root (default meta/train.txt, else the train/ folders)')
    parser.add_argument('--out-dir', help='imagenet: data/imagenet/meta; '
                        'fashion-mnist: data/fashion_mnist_subsets')
    parser.add_argument('--percents', type=float, nargs='+', default=[1, 10])
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None) -> dict[float, str]:
    args = parse_args(argv)
    data_root = args.data_root or DEFAULT_DATA_ROOT[args.dataset]
    if args.dataset == 'imagenet':
        samples = imagenet_samples(data_root, args.ann_file)
    else:
        if args.ann_file:
            raise SystemExit('--ann-file is for imagenet only')
        samples = fashion_mnist_samples(data_root)
    return write_subsets(args.dataset, samples, args.out_dir or DEFAULT_OUT_DIR[args.dataset],
                         args.percents, args.seed)


if __name__ == '__main__':
    main()
