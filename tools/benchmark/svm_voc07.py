"""VOC07 SVM benchmark: linear SVMs on the frozen features of several backbone stages.

    python tools/benchmark/svm_voc07.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE]
        [--stages res4 res5] [--costs 0.1 1 10] [--train-images N] [--test-images N]
        [--workers N] [--device cpu] [--cfg-options key=value ...]

CONFIG is a benchmark config (``configs/benchmarks/classification/voc07_svm/``): its
``model.backbone`` and data preprocessor, ``svm_train_dataloader`` (VOC07 trainval) and
``svm_test_dataloader`` (VOC07 test), and ``svm`` (stages, pooling, the cost sweep,
folds). CHECKPOINT is an mmssl checkpoint (the online backbone under ``backbone.``), a
backbone-only file with ``backbone.`` keys, or ``none`` for the initial (random) weights.

For each stage: features of both sets (pooled as ``svm.pool`` says), one linear SVM per
class for each cost, the cost chosen per class by k-fold cross-validation on the training
set, then the test mAP (see ``mmssl/evaluation/functional/svm.py``); ``--workers``
classes are swept side by side (default: one per CPU; the result does not depend on it).
Datasets with one class index per image (Fashion-MNIST) become one-vs-rest problems.
Prints a table (mAP per stage: the protocol's number, with each class's cross-validated
cost, and the mAP every single cost would give) and writes all results to a JSON file
(default ``WORK_DIR/svm_<checkpoint name>.json``).
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

from mmengine.config import Config, DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmssl.apis import (build_feature_dataloader, build_feature_model,  # noqa: E402
                        extract_features)
from mmssl.evaluation.functional import svm_classification  # noqa: E402

SVM_DEFAULTS = dict(stages=['res5'], pool='avg', pool_dim=9216, costs=[0.01, 0.1, 1.0, 10.0],
                    folds=3, ap_mode='area', seed=0)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='VOC07 SVM benchmark on frozen features')
    parser.add_argument('config', help='benchmark config (configs/benchmarks/classification/'
                        'voc07_svm/)')
    parser.add_argument('checkpoint', help="checkpoint file, or 'none' for random weights")
    parser.add_argument('--work-dir', help='where the JSON goes (default: '
                        './work_dirs/benchmarks/<config name>)')
    parser.add_argument('--out', help='the JSON file (default: WORK_DIR/svm_<checkpoint>.json)')
    parser.add_argument('--stages', nargs='+', help='override svm.stages, e.g. res4 res5')
    parser.add_argument('--costs', nargs='+', type=float, help='override svm.costs')
    parser.add_argument('--train-images', type=int, help='only the first N training images')
    parser.add_argument('--test-images', type=int, help='only the first N test images')
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1,
                        help='classes whose SVMs are swept side by side, in processes '
                        '(default: one per CPU)')
    parser.add_argument('--device', help='default: cuda if available, else cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config values, e.g. svm.folds=5')
    return parser.parse_args(argv)


def format_table(results: dict, costs: list) -> str:
    """A Markdown table: one row per stage."""
    head = ['stage', 'dims', 'mAP', 'mAP (VOC07 11-pt)'] + [f'C={c:g}' for c in costs]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + ' --- |' * len(head)]
    for stage, res in results.items():
        row = [stage, str(res['dims']), f"{res['mAP']:.2f}", f"{res['mAP_11point']:.2f}"]
        row += [f"{res['mAP_per_cost'][str(float(c))]:.2f}" for c in costs]
        lines.append('| ' + ' | '.join(row) + ' |')
    return '\n'.join(lines)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise SystemExit(f'config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    for key in ('svm_train_dataloader', 'svm_test_dataloader'):
        if cfg.get(key) is None:
            raise SystemExit(f'{args.config} has no {key}; see configs/benchmarks/'
                             f'classification/voc07_svm/')
    svm = dict(SVM_DEFAULTS, **cfg.get('svm', {}))
    if args.stages:
        svm['stages'] = args.stages
    if args.costs:
        svm['costs'] = args.costs
    checkpoint = None if args.checkpoint.lower() == 'none' else args.checkpoint
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise SystemExit(f'checkpoint file not found: {checkpoint}')

    start = time.time()
    model = build_feature_model(cfg, checkpoint, svm['stages'], device=args.device)
    feats = {}
    for split, key, limit in (('train', 'svm_train', args.train_images),
                              ('test', 'svm_test', args.test_images)):
        loader = build_feature_dataloader(cfg, key, max_images=limit)
        feats[split] = extract_features(model, loader, svm['stages'], pool=svm['pool'],
                                        pool_dim=svm['pool_dim'])
        if 'labels' not in feats[split]:
            raise SystemExit(f'{key}_dataloader gives no gt_label: the SVMs need labels')
        classes = loader.dataset.metainfo.get('classes')
        print(f'{split}: {len(feats[split]["labels"])} images, features of '
              f'{", ".join(model.stages)} in {time.time() - start:.0f} s', flush=True)

    results = {}
    for stage in model.stages:
        stage_start = time.time()
        res = svm_classification(
            feats['train'][stage], feats['train']['labels'], feats['test'][stage],
            feats['test']['labels'], costs=svm['costs'], folds=svm['folds'],
            seed=svm['seed'], class_names=classes, ap_mode=svm['ap_mode'],
            workers=args.workers)
        res['dims'] = int(feats['train'][stage].shape[1])
        res['seconds'] = round(time.time() - stage_start, 1)
        results[stage] = res
        print(f"{stage}: mAP {res['mAP']:.2f} ({res['dims']} dims, "
              f"{res['seconds']:.0f} s)", flush=True)

    table = format_table(results, svm['costs'])
    print(f"\nSVM mAP ({svm['ap_mode']} AP; 'mAP' uses each class's cross-validated cost) "
          f"of {args.checkpoint}:\n{table}")
    summary = dict(config=args.config, checkpoint=args.checkpoint, svm=svm,
                   num_train=len(feats['train']['labels']),
                   num_test=len(feats['test']['labels']), stages=results,
                   seconds=round(time.time() - start, 1))
    work_dir = args.work_dir or osp.join('./work_dirs/benchmarks',
                                         osp.splitext(osp.basename(args.config))[0])
    name = 'none' if checkpoint is None else osp.splitext(osp.basename(checkpoint))[0]
    out = args.out or osp.join(work_dir, f'svm_{name}.json')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(summary, f, indent=2)
    print(f'results written to {out}')
    return summary


if __name__ == '__main__':
    main()
