"""Train configs at one small, equal budget and read their kNN results (used by the
studies in tools/analysis: negatives_study.py, compare_algorithms.py)."""
import csv
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Optional

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def apply_budget(cfg, config_path: str, epochs: int, images: Optional[int] = None,
                 knn_bank: Optional[int] = None, knn_query: Optional[int] = None) -> None:
    """In place: train ``epochs`` epochs on the first ``images`` images (all if None), fit
    the epoch-based lr schedulers to it, evaluate kNN (the config's ``KNNEvalHook``, on
    the first ``knn_bank``/``knn_query`` images) before and after, keep one checkpoint.

    Raises:
        SystemExit: naming ``config_path`` if it has no ``KNNEvalHook``.
    """
    cfg.train_cfg.max_epochs = epochs
    if images:
        cfg.train_dataloader.dataset.indices = images
    for scheduler in cfg.get('param_scheduler') or []:
        if scheduler.get('by_epoch', True) and 'end' in scheduler:
            scheduler['end'] = epochs
            if 'T_max' in scheduler:
                scheduler['T_max'] = epochs
    hooks = [h for h in cfg.get('custom_hooks', []) if h.get('type') == 'KNNEvalHook']
    if not hooks:
        raise SystemExit(f'{config_path} has no KNNEvalHook in custom_hooks: the study '
                         f'reads its kNN results')
    hooks[0].update(interval=epochs, before_train=True)
    for part, count in (('bank', knn_bank), ('query', knn_query)):
        if count:
            hooks[0]['dataloader']['dataset'][part]['indices'] = count
    cfg.default_hooks.checkpoint.update(interval=1, max_keep_ckpts=1)


def train_and_read_knn(cfg, run_dir: str) -> dict:
    """Train ``cfg`` with tools/train.py in its own process under ``run_dir`` (resuming
    an interrupted run from its last checkpoint); returns ``knn_top1_init``,
    ``knn_top1`` (the first and last kNN top-1 it logged), ``seconds`` and ``status``."""
    os.makedirs(run_dir, exist_ok=True)
    config_path = osp.join(run_dir, 'config.py')
    cfg.dump(config_path)
    command = [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'), config_path,
               '--work-dir', run_dir]
    if osp.isfile(osp.join(run_dir, 'last_checkpoint')):
        command.append('--resume')
    start = time.time()
    proc = subprocess.run(command, cwd=REPO_ROOT)
    seconds = round(time.time() - start, 1)
    if proc.returncode != 0:
        return dict(knn_top1_init='', knn_top1='', seconds=seconds,
                    status=f'failed ({proc.returncode})')
    rows = knn_rows_of_all_runs(run_dir)
    return dict(knn_top1_init=f"{rows[0]['knn/top1']:.2f}",
                knn_top1=f"{rows[-1]['knn/top1']:.2f}", seconds=seconds, status='done')


def linear_probe(linear_config: str, run_dir: str,
                 cfg_options: Optional[list[str]] = None) -> dict:
    """Fit the linear benchmark ``linear_config`` on the frozen backbone of the last
    checkpoint in ``run_dir`` (tools/train.py in its own process, under
    ``run_dir/linear``); returns ``linear_top1`` (the last ``accuracy/top1`` it logged)
    and ``linear_status``. ``cfg_options``: extra ``key=value`` overrides of the config."""
    pointer = osp.join(run_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return dict(linear_top1='', linear_status=f'no checkpoint in {run_dir}')
    with open(pointer) as f:
        checkpoint = f.read().strip()
    work_dir = osp.join(run_dir, 'linear')
    command = [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'), linear_config,
               '--work-dir', work_dir, '--cfg-options',
               f'model.backbone.init_cfg.checkpoint={checkpoint}', *(cfg_options or [])]
    proc = subprocess.run(command, cwd=REPO_ROOT)
    if proc.returncode != 0:
        return dict(linear_top1='', linear_status=f'failed ({proc.returncode})')
    rows = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            rows += [row for row in map(json.loads, f) if 'accuracy/top1' in row]
    if not rows:
        return dict(linear_top1='', linear_status=f'no accuracy/top1 logged in {work_dir}')
    return dict(linear_top1=f"{rows[-1]['accuracy/top1']:.2f}", linear_status='done')


def knn_rows_of_all_runs(work_dir: str) -> list[dict]:
    """The kNN rows logged in ``work_dir`` by every run in it, oldest run first: a
    resumed run logs only what it evaluated itself (not the evaluation before training)."""
    rows = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            rows += [row for row in map(json.loads, f) if 'knn/top1' in row]
    if not rows:
        raise SystemExit(f'{work_dir} holds no kNN result (is KNNEvalHook in the config?)')
    return rows


def read_results(path: str, key: str = 'cell') -> dict[str, dict]:
    """The rows of a results CSV by ``key`` (empty if there is none yet)."""
    if not osp.isfile(path):
        return {}
    with open(path, newline='') as f:
        return {row[key]: row for row in csv.DictReader(f)}


def write_results(path: str, fields: list[str], rows: list[dict]) -> None:
    """Atomically (temporary file + rename) rewrite the CSV at ``path`` with ``rows``."""
    tmp = f'{path}.tmp'
    with open(tmp, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def write_table(path: str, rows: list[dict], columns: list[str]) -> None:
    """``rows`` as a Markdown table of ``columns``."""
    lines = ['| ' + ' | '.join(columns) + ' |', '|' + '---|' * len(columns)]
    lines += ['| ' + ' | '.join(str(row.get(c, '')) for c in columns) + ' |' for row in rows]
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
