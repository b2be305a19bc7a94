"""Train configs at a stated budget and read their results (used by the studies and
tools in tools/analysis: sweep.py, train_zoo.py, negatives_study.py,
compare_algorithms.py)."""
import csv
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Optional

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def apply_budget(cfg, config_path: str, epochs: int, images: Optional[int] = None,
                 knn_bank: Optional[int] = None, knn_query: Optional[int] = None) -> None:
    """In place: train ``epochs`` epochs on the first ``images`` images (all if None), fit
    the epoch-based lr schedulers to it, evaluate kNN (the config's ``KNNEvalHook``, on
    the first ``knn_bank``/``knn_query`` images) before and after, keep one checkpoint.

    Raises:
        SystemExit: naming ``config_path`` if it has no ``KNNEvalHook``.
    """
    set_epochs(cfg, epochs)
    if images:
        cfg.train_dataloader.dataset.indices = images
    hooks = [h for h in cfg.get('custom_hooks', []) if h.get('type') == 'KNNEvalHook']
    if not hooks:
        raise SystemExit(f'{config_path} has no KNNEvalHook in custom_hooks: the study '
                         f'reads its kNN results')
    hooks[0].update(interval=epochs, before_train=True)
    for part, count in (('bank', knn_bank), ('query', knn_query)):
        if count:
            hooks[0]['dataloader']['dataset'][part]['indices'] = count
    cfg.default_hooks.checkpoint.update(interval=1, max_keep_ckpts=1)


def set_epochs(cfg, epochs: int) -> None:
    """In place: train ``epochs`` epochs, the epoch-based lr schedulers that end with the
    training (cosine, linear) stretched or shrunk to them."""
    old_epochs = cfg.train_cfg.max_epochs
    cfg.train_cfg.max_epochs = epochs
    for scheduler in cfg.get('param_scheduler') or []:
        if scheduler.get('by_epoch', True) and scheduler.get('end') == old_epochs:
            scheduler['end'] = epochs
            if scheduler.get('T_max') is not None:
                scheduler['T_max'] = epochs - scheduler.get('begin', 0)


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
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
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


def protocol_run_config(config: str, options: dict, seed: int, run_dir: str,
                        epochs: Optional[int] = None) -> str:
    """Write ``run_dir/config.py``: ``config`` with ``options`` merged (mmengine's
    ``--cfg-options`` semantics), trained ``epochs`` epochs if given (:func:`set_epochs`),
    ``randomness.seed=seed``, no ``KNNEvalHook`` (the full
    protocol runs once after training, :func:`train_and_evaluate`) and one checkpoint
    kept per epoch. Returns its path."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(options)
    if epochs:
        set_epochs(cfg, epochs)
    cfg.randomness = dict(cfg.get('randomness') or {}, seed=seed)
    cfg.custom_hooks = [h for h in cfg.get('custom_hooks') or []
                        if h.get('type') != 'KNNEvalHook']
    cfg.default_hooks.checkpoint.update(interval=1, max_keep_ckpts=1)
    os.makedirs(run_dir, exist_ok=True)
    path = osp.join(run_dir, 'config.py')
    cfg.dump(path)
    return path


def _run(command: list[str], log_path: str, threads: Optional[int]) -> int:
    env = dict(os.environ)
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    with open(log_path, 'a') as log:
        return subprocess.run(command, cwd=REPO_ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT).returncode


def train_and_evaluate(run_dir: str, eval_config: str, seed: int,
                       train_config: Optional[str] = None,
                       threads: Optional[int] = None) -> dict:
    """Train ``train_config`` under ``run_dir`` (tools/train.py in its own process,
    resuming an interrupted run from its last checkpoint), then run the full protocol
    (tools/analysis/eval_protocol.py: kNN and linear probe) on its last checkpoint with
    ``eval_config``'s data. ``train_config=None``: no training, the random
    initialisation drawn with ``seed`` is evaluated.

    Finished steps are not repeated: ``run_dir/train.json`` (training seconds, summed over
    the attempts) marks a finished training and ``run_dir/result.json`` holds the result,
    which is returned: the accuracies of :func:`mmssl.apis.evaluate_backbone`,
    ``train_seconds`` and ``status`` (``'done'`` or what failed, with the log to read).
    """
    os.makedirs(run_dir, exist_ok=True)
    result_path = osp.join(run_dir, 'result.json')
    if osp.isfile(result_path):
        with open(result_path) as f:
            return json.load(f)
    train_path, log_path = osp.join(run_dir, 'train.json'), osp.join(run_dir, 'run.log')
    checkpoint, train_seconds = 'none', 0.0
    if train_config is not None:
        if not osp.isfile(train_path):
            command = [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'),
                       train_config, '--work-dir', run_dir]
            if osp.isfile(osp.join(run_dir, 'last_checkpoint')):
                command.append('--resume')
            start = time.time()
            code = _run(command, log_path, threads)
            attempts = _read_json(osp.join(run_dir, 'attempts.json'), [])
            attempts.append(round(time.time() - start, 1))
            _write_json(osp.join(run_dir, 'attempts.json'), attempts)
            if code != 0:
                return dict(status=f'training failed ({code}), see {log_path}')
            _write_json(train_path, dict(seconds=round(sum(attempts), 1), attempts=attempts))
        train_seconds = _read_json(train_path, {})['seconds']
        with open(osp.join(run_dir, 'last_checkpoint')) as f:
            checkpoint = f.read().strip()
    command = [sys.executable, osp.join(REPO_ROOT, 'tools', 'analysis', 'eval_protocol.py'),
               eval_config, checkpoint, '--seed', str(seed), '--out', result_path + '.tmp']
    code = _run(command, log_path, threads)
    if code != 0:
        return dict(status=f'evaluation failed ({code}), see {log_path}')
    result = dict(_read_json(result_path + '.tmp', {}), train_seconds=train_seconds,
                  status='done')
    _write_json(result_path, result)
    os.remove(result_path + '.tmp')
    return result


VARIANT_FIELDS = ['run', 'variant', 'seed', 'overrides', 'epochs', 'train_seconds',
                  'knn_top1', 'knn_top5', 'linear_top1', 'linear_top5',
                  'linear_weight_decay', 'status']


def run_variants(config: str, variants: dict[str, dict], seeds: Iterable[int],
                 work_dir: str, out: str, epochs: Optional[int] = None, jobs: int = 1,
                 threads: Optional[int] = None, max_runs: Optional[int] = None,
                 label: str = 'sweep') -> dict[str, dict]:
    """Train ``config`` with each ``{name: overrides}`` of ``variants`` and each seed (in
    its own process under ``work_dir/<name>/seed<seed>``, at ``epochs`` if given), then
    evaluate it on the full protocol (:func:`train_and_evaluate`); ``jobs`` runs side by
    side with ``threads`` threads each.

    Each finished run becomes a row of the CSV ``out`` (:data:`VARIANT_FIELDS`, keyed by
    ``run`` = ``<name>/seed<seed>``) as it finishes; runs already done in ``out`` are not
    started again, at most ``max_runs`` others are. Returns every row of ``out``.
    """
    results = read_results(out, key='run')
    pending = [(name, overrides, seed) for name, overrides in variants.items()
               for seed in seeds
               if results.get(f'{name}/seed{seed}', {}).get('status') != 'done']
    if max_runs is not None and len(pending) > max_runs:
        print(f'[{label}] running {max_runs} of the {len(pending)} pending runs '
              f'(--max-runs); run again to resume', flush=True)
        pending = pending[:max_runs]

    def job(name: str, overrides: dict, seed: int) -> Callable[[], dict]:
        run_dir = osp.join(work_dir, name, f'seed{seed}')

        def train() -> dict:
            from mmengine.config import Config
            path = protocol_run_config(config, overrides, seed, run_dir, epochs)
            result = train_and_evaluate(run_dir, path, seed, train_config=path,
                                        threads=threads)
            return dict(result, run=f'{name}/seed{seed}', variant=name, seed=seed,
                        overrides=json.dumps(overrides),
                        epochs=Config.fromfile(path).train_cfg.max_epochs)
        return train

    def record(row: dict) -> None:
        results[row['run']] = {key: row.get(key, '') for key in VARIANT_FIELDS}
        print(f"[{label}] {row['run']}: " + ', '.join(
            f'{key} {row.get(key)}' for key in ('knn_top1', 'linear_top1', 'train_seconds',
                                                'status')), flush=True)
        write_results(out, VARIANT_FIELDS, list(results.values()))

    run_parallel([job(*run) for run in pending], jobs, record)
    return results


def run_parallel(jobs: Iterable[Callable[[], dict]], workers: int,
                 on_result: Callable[[dict], None]) -> None:
    """Run ``jobs`` (each starts its own processes) ``workers`` at a time, passing each
    result to ``on_result`` as it comes, one at a time."""
    lock = threading.Lock()

    def run(job):
        result = job()
        with lock:
            on_result(result)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for future in [pool.submit(run, job) for job in jobs]:
            future.result()


def _read_json(path: str, default):
    if not osp.isfile(path):
        return default
    with open(path) as f:
        return json.load(f)


def _write_json(path: str, value) -> None:
    with open(path + '.part', 'w') as f:
        json.dump(value, f, indent=2)
    os.replace(path + '.part', path)
