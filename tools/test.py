"""Evaluate a checkpoint with a config's test dataloader and evaluator (e.g. kNN).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out metrics.json]
                                           [--cfg-options ...] [--launcher pytorch]
                                           [--vis-backend tensorboard wandb]

CHECKPOINT may be ``none`` to evaluate the initial (random) weights. The metrics also go
to the visualizer (``vis_data/scalars.json``, and TensorBoard / W&B with
``--vis-backend``).
"""
import argparse
import json
import os.path as osp
import sys

from mmengine.dist import is_main_process

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # projects/ importable
from mmssl.apis import (MetricsToVisualizerHook, add_runner_args, build_runner,  # noqa: E402
                        load_config, parse_runner_args)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Evaluate a self-supervised model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help="checkpoint file, or 'none' for the initial weights")
    parser.add_argument('--out', help='write the metrics to this JSON file')
    add_runner_args(parser)
    return parse_runner_args(parser, argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options, work_dir=args.work_dir,
                      launcher=args.launcher, vis_backends=args.vis_backend)
    if args.amp:  # a test never steps an optimizer wrapper: autocast the test loop instead
        cfg.test_cfg = dict(cfg.get('test_cfg') or dict(type='TestLoop'), fp16=True)
    if args.checkpoint.lower() == 'none':
        cfg.load_from = None
    elif not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint file not found: {args.checkpoint}')
    else:
        cfg.load_from = args.checkpoint
    for key in ('test_dataloader', 'test_evaluator'):
        if cfg.get(key) is None:
            raise SystemExit(f'{args.config} has no {key}; add one (e.g. the kNN evaluation '
                             f'of configs/_base_/datasets/fashion_mnist_knn.py)')
    runner = build_runner(cfg)
    runner.register_hook(MetricsToVisualizerHook())
    metrics = runner.test()
    if is_main_process():
        print(json.dumps({key: round(value, 4) for key, value in metrics.items()}))
        if args.out:
            with open(args.out, 'w') as f:
                json.dump(metrics, f, indent=2)
    return metrics


if __name__ == '__main__':
    main()
