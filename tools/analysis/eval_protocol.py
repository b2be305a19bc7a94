"""The full frozen-feature protocol of one checkpoint: kNN and a linear probe.

    python tools/analysis/eval_protocol.py CONFIG CHECKPOINT [--out result.json]
        [--seed 0] [--max-images N] [--cfg-options key=value ...]

CONFIG: a pretraining or benchmark config whose ``knn_dataloader`` (else
``test_dataloader``) is a ``KNNDataset`` (e.g. every Fashion-MNIST config: the 60,000
training images are the bank and the linear probe's training set, the 10,000 test images
the queries and its test set). CHECKPOINT: an mmssl or backbone-only checkpoint, or
``none`` for the random initialisation drawn with ``--seed``. Prints and writes
``knn_top1``, ``knn_top5``, ``linear_top1``, ``linear_top5`` (see
``mmssl.apis.evaluate_backbone``).
"""
import argparse
import json
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.runner import set_random_seed

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmssl.apis import evaluate_backbone  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='kNN and linear probe of a checkpoint')
    parser.add_argument('config')
    parser.add_argument('checkpoint', help="checkpoint file, or 'none' for random weights")
    parser.add_argument('--out', help='write the result as JSON here')
    parser.add_argument('--seed', type=int, default=0, help='seed of the random weights')
    parser.add_argument('--max-images', type=int, help='first N bank and N query images')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise SystemExit(f'config file not found: {args.config}')
    if args.checkpoint.lower() != 'none' and not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint file not found: {args.checkpoint}')
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    set_random_seed(args.seed)
    result = evaluate_backbone(cfg, args.checkpoint, max_images=args.max_images)
    result = dict(config=args.config, checkpoint=args.checkpoint, seed=args.seed, **result)
    print(json.dumps(result))
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
