"""The labelme segmentation transfer, measured over seeds: an FCN fine-tuned from an
mmssl-pretrained ResNet-18 against the same FCN from random initialisation.

    python tools/analysis/labelme_segmentation_runs.py [--seeds 0 1 2]
        [--work-dir work_dirs/labelme_segmentation_runs]
        [--out docs/segmentation/labelme_video.csv]

Once: ``tools/dataset_converters/prepare_labelme_segmentation.py`` (label maps and splits
under ``data/labelme_segmentation/``). Then per seed, each step a command of its own
(printed before it runs, and kept in the CSV's ``command`` column):

1. MoCo v2 pretraining on the video's three training frames (:data:`PRETRAIN_CONFIG`,
   ``randomness.seed=SEED``), then ``tools/model_converters/extract_backbone.py``;
2. the FCN (:data:`FCN_CONFIG`) fine-tuned from that backbone: the ``mmssl`` row;
3. the same FCN from random initialisation (``model.backbone.init_cfg=None``, same seed):
   the ``random`` row.

A row holds the held-out frames' mIoU, aAcc, mAcc and per-class IoU (mmseg's IoUMetric at
the end of training; the per-class values come from the table it writes to the run's log),
the fine-tuning wall time and, for ``mmssl`` rows, the pretraining's (training and
extraction). The CSV is rewritten after every row; a rerun keeps its finished
(seed, init) rows and runs the others. The summary (mean ± sample std per init) is printed.
"""
import argparse
import csv
import glob
import json
import os
import os.path as osp
import shlex
import shutil
import subprocess
import sys
import time

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)
from tools.analysis.budget_runs import write_results  # noqa: E402
from tools.analysis.zoo_report import format_mean_std, summarise  # noqa: E402

PRETRAIN_CONFIG = 'configs/mocov2/mocov2_resnet18_1xb8-coslr-1e_labelme-video-train.py'
FCN_CONFIG = ('configs/benchmarks/mmsegmentation/labelme/'
              'fcn_r18-d8_1xb3-40i_labelme-video-320x180.py')
CLASSES = ('_background_', 'car', 'track')
INITS = ('mmssl', 'random')
FIELDS = (['seed', 'init', 'mIoU', 'aAcc', 'mAcc'] + [f'IoU.{c}' for c in CLASSES]
          + ['finetune_s', 'pretrain_s', 'command'])


def run(command: list[str], log_path: str) -> float:
    """Run ``command`` in the repository root, its output to ``log_path``; its seconds.

    Raises:
        SystemExit: naming the command and the log when it fails.
    """
    print('$', shlex.join(command), flush=True)
    start = time.perf_counter()
    os.makedirs(osp.dirname(log_path), exist_ok=True)
    with open(log_path, 'w') as log:
        code = subprocess.run(command, cwd=REPO_ROOT, stdout=log,
                              stderr=subprocess.STDOUT).returncode
    if code:
        raise SystemExit(f'failed ({code}): {shlex.join(command)}; see {log_path}')
    return time.perf_counter() - start


def per_class_iou(log_text: str) -> dict[str, float]:
    """The IoU column of the last per-class table mmseg's IoUMetric wrote to a log.

    Raises:
        ValueError: when the log holds no such table.
    """
    start = log_text.rfind('per class results:')
    if start < 0:
        raise ValueError('no "per class results:" table in the log')
    rows, header = {}, None
    for line in log_text[start:].splitlines()[1:]:
        if line.startswith('+'):
            if rows:  # the closing border
                break
            continue
        if not line.startswith('|'):
            if header is not None:
                break
            continue
        cells = [cell.strip() for cell in line.strip('|').split('|')]
        if header is None:
            header = cells
            continue
        rows[cells[0]] = float(cells[header.index('IoU')])
    return rows


def read_run(work_dir: str) -> dict:
    """mIoU, aAcc, mAcc and per-class IoU of a finished fine-tuning run in ``work_dir``."""
    (scalars,) = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(scalars) as f:
        (metrics,) = [row for row in map(json.loads, f) if 'mIoU' in row]
    (log,) = glob.glob(osp.join(work_dir, '*', '*.log'))
    with open(log) as f:
        ious = per_class_iou(f.read())
    return dict({key: round(metrics[key], 2) for key in ('mIoU', 'aAcc', 'mAcc')},
                **{f'IoU.{name}': ious[name] for name in CLASSES})


def finetune_command(seed: int, init: str, backbone: str, work_dir: str) -> list[str]:
    checkpoint = (f'model.backbone.init_cfg.checkpoint={backbone}' if init == 'mmssl'
                  else 'model.backbone.init_cfg=None')
    return ['python', 'tools/train.py', FCN_CONFIG, '--work-dir', work_dir,
            '--cfg-options', checkpoint, f'randomness.seed={seed}']


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--work-dir', default='work_dirs/labelme_segmentation_runs')
    parser.add_argument('--out', default='docs/segmentation/labelme_video.csv')
    args = parser.parse_args(argv)
    python = sys.executable

    def local(command: list[str]) -> list[str]:  # the recorded 'python', run by this one
        return [python] + command[1:] if command[0] == 'python' else command

    rows = {}
    if osp.isfile(args.out):
        with open(args.out, newline='') as f:
            rows = {f'{row["seed"]}/{row["init"]}': row for row in csv.DictReader(f)}
    run(local(['python', 'tools/dataset_converters/prepare_labelme_segmentation.py',
               '--examples', 'video_annotation']), osp.join(args.work_dir, 'prepare.log'))
    for seed in args.seeds:
        todo = [init for init in INITS if f'{seed}/{init}' not in rows]
        if not todo:
            continue
        seed_dir = osp.join(args.work_dir, f'seed{seed}')
        backbone, pretrain_s = osp.join(seed_dir, 'pretrain', 'backbone.pth'), ''
        if 'mmssl' in todo:
            pre_dir = osp.join(seed_dir, 'pretrain')
            shutil.rmtree(pre_dir, ignore_errors=True)  # an unfinished run starts again
            pretrain_s = run(local(['python', 'tools/train.py', PRETRAIN_CONFIG, '--work-dir',
                                    pre_dir, '--cfg-options', f'randomness.seed={seed}']),
                             osp.join(seed_dir, 'pretrain.log'))
            pretrain_s += run(local(['python', 'tools/model_converters/extract_backbone.py',
                                     osp.join(pre_dir, 'epoch_1.pth'), backbone]),
                              osp.join(seed_dir, 'extract.log'))
        for init in todo:
            work_dir = osp.join(seed_dir, init)
            shutil.rmtree(work_dir, ignore_errors=True)
            command = finetune_command(seed, init, backbone, work_dir)
            seconds = run(local(command), osp.join(seed_dir, f'{init}.log'))
            rows[f'{seed}/{init}'] = dict(
                read_run(work_dir), seed=seed, init=init, finetune_s=f'{seconds:.1f}',
                pretrain_s=f'{pretrain_s:.1f}' if init == 'mmssl' else '',
                command=shlex.join(command))
            ordered = sorted(rows.values(), key=lambda r: (int(r['seed']), r['init']))
            write_results(args.out, FIELDS, ordered)
    report(list(rows.values()), args.seeds)


def report(rows: list[dict], seeds: list[int]) -> None:
    """Print mean ± sample std over ``seeds`` per init, for mIoU and each class's IoU."""
    keys = ['mIoU'] + [f'IoU.{c}' for c in CLASSES] + ['finetune_s']
    print('| init | seeds | ' + ' | '.join(keys) + ' |')
    print('|---|---|' + '---|' * len(keys))
    for init in INITS:
        done = [r for r in rows if r['init'] == init and int(r['seed']) in seeds]
        cells = [format_mean_std(*summarise([float(r[k]) for r in done])) for k in keys]
        print(f'| {init} | {len(done)} | ' + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    main()
