"""Write a checkpoint's backbone features to .npy files, one per stage, with the labels.

    python tools/analysis/extract_features.py CONFIG CHECKPOINT --out DIR
        [--stages res4 res5] [--dataset test] [--max-images N] [--pool avg|adaptive]
        [--pool-dim 9216] [--device cpu] [--cfg-options key=value ...]

CONFIG: a pretraining config (e.g. configs/mocov2/mocov2_resnet18_1xb256-coslr-2e_fmnist.py)
or a benchmark config: its ``model.backbone``, its data preprocessor and its
``{dataset}_dataloader``. ``--dataset`` is

- ``test``: ``test_dataloader``; where that is a kNN evaluation (a ``KNNDataset``, as in
  the Fashion-MNIST demos), only its queries: the test images;
- ``knn``: ``knn_dataloader`` (else ``test_dataloader``) whole: the kNN bank (the
  training images), then the queries;
- ``train``: ``train_dataloader``, with the config's training pipeline: random
  augmentations done on the CPU apply (the Fashion-MNIST demos augment on the device,
  which is off here);
- any other prefix of a ``*_dataloader`` key (e.g. ``svm_test``), optionally with
  ``:bank`` or ``:query`` for a part of a ``KNNDataset`` (e.g. ``knn:bank``).

CHECKPOINT: an mmssl checkpoint, a backbone-only file with ``backbone.`` keys, or ``none``
(random weights).

Writes ``DIR/{stage}.npy`` ((N, D) float32, row i = image i of the dataset, in order),
``DIR/labels.npy`` (the images' ``gt_label``), ``DIR/knn_bank.npy`` (for ``knn``: True
for bank images) and ``DIR/meta.json`` (config, checkpoint, dataset, stages, pooling,
class names). A progress bar on stderr counts the batches. In Python:
``mmssl.apis.get_model`` and ``extract_features`` (docs/python_api.md).
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from typing import Optional

import numpy as np
from mmengine.config import Config, DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmssl.apis import (build_feature_dataloader, build_feature_model,  # noqa: E402
                        extract_features)
from mmssl.apis.features import POOLS, VOC07_POOL_DIM, is_knn_dataset  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Extract backbone features to .npy')
    parser.add_argument('config', help='config file with model.backbone and dataloaders')
    parser.add_argument('checkpoint', help="checkpoint file, or 'none' for random weights")
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--stages', nargs='+', help="e.g. res2 res5 (default: the backbone's "
                        'out_indices)')
    parser.add_argument('--dataset', default='test',
                        help='test (a kNN evaluation: its test images), knn (bank + queries), '
                        'train, or the prefix of any *_dataloader key [:bank|:query]')
    parser.add_argument('--max-images', type=int, help='only the first N images (knn: of the '
                        'bank and of the queries each)')
    parser.add_argument('--pool', choices=POOLS, default='avg',
                        help='avg: global average pool; adaptive: the VOC07 SVM protocol\'s '
                        'pooling to about --pool-dim dims per stage')
    parser.add_argument('--pool-dim', type=int, default=VOC07_POOL_DIM)
    parser.add_argument('--device', help='default: cuda if available, else cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config values')
    return parser.parse_args(argv)


def dataset_loader(cfg: Config, dataset: str, max_images: Optional[int] = None):
    """The dataloader ``--dataset`` names (see the module docstring)."""
    name, _, part = dataset.partition(':')
    if name == 'knn' and cfg.get('knn_dataloader') is None and is_knn_dataset(cfg, 'test'):
        name = 'test'
    elif dataset == 'test' and is_knn_dataset(cfg, 'test'):
        part = 'query'
    return build_feature_dataloader(cfg, name, max_images=max_images, part=part or None)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise SystemExit(f'config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    checkpoint = None if args.checkpoint.lower() == 'none' else args.checkpoint
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise SystemExit(f'checkpoint file not found: {checkpoint}')
    start = time.time()
    model = build_feature_model(cfg, checkpoint, args.stages, device=args.device)
    try:
        loader = dataset_loader(cfg, args.dataset, args.max_images)
    except KeyError as err:
        raise SystemExit(err.args[0]) from err
    feats = extract_features(model, loader, model.stages, pool=args.pool,
                             pool_dim=args.pool_dim)
    os.makedirs(args.out, exist_ok=True)
    for name, array in feats.items():
        np.save(osp.join(args.out, f'{name}.npy'), array)
    classes = loader.dataset.metainfo.get('classes')
    meta = dict(config=args.config, checkpoint=args.checkpoint, dataset=args.dataset,
                stages=model.stages, pool=args.pool, pool_dim=args.pool_dim,
                num_images=int(len(next(iter(feats.values())))),
                classes=list(classes) if classes is not None else None)
    with open(osp.join(args.out, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=2)
    shapes = ', '.join(f'{name} {tuple(array.shape)}' for name, array in feats.items())
    print(f'{meta["num_images"]} images in {time.time() - start:.0f} s: {shapes} '
          f'-> {args.out}')
    return meta


if __name__ == '__main__':
    main()
