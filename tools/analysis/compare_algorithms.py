"""Pretrain several configs at the same small budget and tabulate their kNN top-1.

    python tools/analysis/compare_algorithms.py CONFIG [CONFIG ...] --work-dir DIR
        [--images N] [--epochs E] [--knn-bank N] [--knn-query N]
        [--linear LINEAR_CONFIG [--linear-options key=value ...]]
        [--cfg-options key=value ...]

Every config (each with a ``KNNEvalHook``) trains ``--epochs`` epochs on its first
``--images`` training images, in its own process under ``DIR/runs/<config name>``; the
kNN top-1 before and after goes to ``DIR/results.csv`` and ``DIR/results.md`` as each run
finishes. Run the same command again to resume: finished configs are skipped and an
interrupted one resumes from its last checkpoint.

With ``--linear`` (a linear benchmark config whose backbone is the configs' own, e.g.
``configs/benchmarks/classification/fashion_mnist/resnet18_linear-1xb256-coslr-3e_fmnist.py``)
each finished run's last checkpoint is also probed linearly (under ``<run>/linear``) and
its top-1 goes to the ``linear_top1`` column; rerunning with ``--linear`` probes the
finished runs that have no linear result yet.
"""
import argparse
import os
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)
from tools.analysis.budget_runs import (apply_budget, linear_probe,  # noqa: E402
                                        read_results, train_and_read_knn, write_results,
                                        write_table)

FIELDS = ['config', 'algorithm', 'epochs', 'images', 'knn_top1_init', 'knn_top1', 'seconds',
          'status', 'linear_top1', 'linear_status']


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+', help='configs with a KNNEvalHook')
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--images', type=int, help='train on the first N images only')
    parser.add_argument('--epochs', type=int, default=1)
    parser.add_argument('--knn-bank', type=int, help='kNN on the first N bank images')
    parser.add_argument('--knn-query', type=int, help='kNN on the first N query images')
    parser.add_argument('--linear', help='a linear benchmark config to probe each run with')
    parser.add_argument('--linear-options', nargs='+', default=[],
                        help='key=value overrides of the linear config')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='overrides of every config (before the budget)')
    return parser.parse_args(argv)


def ordered(results: dict[str, dict], names: list[str]) -> list[dict]:
    """The rows of ``names`` in that order, then the other rows of the CSV (configs of
    an earlier call) as they were."""
    return ([results[n] for n in names if n in results]
            + [row for name, row in results.items() if name not in names])


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmengine.config import Config
    os.makedirs(args.work_dir, exist_ok=True)
    csv_path = osp.join(args.work_dir, 'results.csv')
    results = read_results(csv_path, key='config')
    names = [osp.splitext(osp.basename(path))[0] for path in args.configs]
    if args.linear and not osp.isfile(args.linear):
        raise SystemExit(f'linear config file not found: {args.linear}')
    for path, name in zip(args.configs, names):
        run_dir = osp.join(args.work_dir, 'runs', name)
        if name in results:
            print(f'[compare] {name}: already done ({results[name]["status"]})')
        else:
            if not osp.isfile(path):
                raise SystemExit(f'config file not found: {path}')
            cfg = Config.fromfile(path)
            cfg.merge_from_dict(args.cfg_options)
            apply_budget(cfg, path, args.epochs, args.images, args.knn_bank, args.knn_query)
            print(f'[compare] {name}: training', flush=True)
            row = dict(config=name, algorithm=cfg.model.type, epochs=args.epochs,
                       images=args.images or 'all')
            results[name] = dict(row, **train_and_read_knn(cfg, run_dir))
            print(f'[compare] {name}: kNN top-1 {results[name]["knn_top1"]} '
                  f'({results[name]["status"]})', flush=True)
        if (args.linear and results[name]['status'] == 'done'
                and not results[name].get('linear_top1')):
            print(f'[compare] {name}: linear probe', flush=True)
            results[name].update(linear_probe(args.linear, run_dir, args.linear_options))
            print(f'[compare] {name}: linear top-1 {results[name]["linear_top1"]} '
                  f'({results[name]["linear_status"]})', flush=True)
        write_results(csv_path, FIELDS, ordered(results, names))
    rows = ordered(results, names)
    write_table(osp.join(args.work_dir, 'results.md'), rows,
                ['algorithm', 'config', 'knn_top1_init', 'knn_top1', 'seconds', 'status']
                + (['linear_top1'] if args.linear else []))
    print(f'[compare] {len(rows)}/{len(names)} configs in {csv_path}')


if __name__ == '__main__':
    main()
