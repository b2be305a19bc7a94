"""Train the model zoo into a local folder and record each row's full-protocol figures.

    python tools/analysis/train_zoo.py [ZOO] [--zoo-dir work_dirs/zoo] [--rows NAME ...]
        [--seeds S ...] [--jobs 2] [--threads 1] [--git-commit] [--report-only]

ZOO (default ``configs/zoo/fashion_mnist.py``) lists the rows: a ``name``, the recipe's
``config``, its ``seeds``, ``pretrain=False`` for a random-initialisation baseline (the
config's backbone evaluated untrained, with each seed), ``main=True`` for the rows
plotted, and ``prepare=dict(command=[SCRIPT, ARG, ...], creates=PATH)`` for a row whose
recipe needs a file made first (BEiT's tokenizer): the script runs once, with this Python
in the repository root, before the row's first run if PATH (relative to the repository)
is missing. Every (row, seed) trains in its own process into ``ZOO_DIR/<name>/seed<seed>``
(its checkpoint: the file named by ``last_checkpoint`` there) and is then evaluated on
the full protocol (tools/analysis/eval_protocol.py: kNN k=20, τ 0.07 over the whole
training split as bank and test split as queries, and the linear probe).

Each finished run becomes a row of the zoo's ``results`` CSV (committed) as soon as it
finishes, and the report is rewritten from those results (tools/analysis/zoo_report.py):
the table in ``docs/model_zoo.md``, the metafile in OpenMMLab's model-index format
(``configs/zoo/metafile.yml``, imported by ``model-index.yml``) and the plot of kNN
against training time. ``--git-commit`` commits those files after each run.
Running the same command again resumes: finished runs are read back from the CSV or their
``result.json``, interrupted ones resume from their last checkpoint.
"""
import argparse
import json
import os.path as osp
import subprocess
import sys

from mmengine.config import Config

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)
from tools.analysis.budget_runs import (protocol_run_config, read_results,  # noqa: E402
                                        run_parallel, train_and_evaluate, write_results)
from tools.analysis.zoo_report import FIELDS, write_report  # noqa: E402

DEFAULT_ZOO = osp.join(REPO_ROOT, 'configs', 'zoo', 'fashion_mnist.py')


def load_zoo(path: str) -> Config:
    """The zoo file's values, checked: each row has a unique name and an existing config."""
    if not osp.isfile(path):
        raise SystemExit(f'zoo file not found: {path}')
    zoo = Config.fromfile(path)
    names = set()
    for row in zoo.rows:
        if row['name'] in names:
            raise SystemExit(f'{path}: the row name {row["name"]!r} is used twice')
        names.add(row['name'])
        if not osp.isfile(osp.join(REPO_ROOT, row['config'])):
            raise SystemExit(f'{path}: row {row["name"]!r}: config {row["config"]} not found')
    return zoo


def prepare_row(row: dict) -> None:
    """Make the file a row's recipe needs (its ``prepare`` entry), once."""
    prepare = row.get('prepare')
    target = prepare and osp.join(REPO_ROOT, prepare['creates'])
    if not prepare or osp.exists(target):
        return
    command = [sys.executable, *prepare['command']]
    print(f"[zoo] {row['name']}: making {prepare['creates']}: {' '.join(command)}")
    if subprocess.run(command, cwd=REPO_ROOT).returncode != 0 or not osp.exists(target):
        raise SystemExit(f"row {row['name']!r}: its prepare command did not make "
                         f"{prepare['creates']}")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train and evaluate the model zoo')
    parser.add_argument('zoo', nargs='?', default=DEFAULT_ZOO)
    parser.add_argument('--zoo-dir', default='work_dirs/zoo', help='checkpoints go here')
    parser.add_argument('--rows', nargs='+', help='only these row names')
    parser.add_argument('--seeds', nargs='+', type=int, help="only these of each row's seeds")
    parser.add_argument('--jobs', type=int, default=1, help='runs side by side')
    parser.add_argument('--threads', type=int, help='threads per run (OMP_NUM_THREADS)')
    parser.add_argument('--git-commit', action='store_true',
                        help='commit the results and report after each finished run')
    parser.add_argument('--report-only', action='store_true', help='rewrite the report')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    zoo = load_zoo(args.zoo)
    results_path = osp.join(REPO_ROOT, zoo.results)
    results = read_results(results_path, key='run')
    rows = [row for row in zoo.rows if not args.rows or row['name'] in args.rows]
    unknown = set(args.rows or []) - {row['name'] for row in zoo.rows}
    if unknown:
        raise SystemExit(f'{args.zoo} has no rows named {sorted(unknown)}')

    def run_dir_of(row: dict, seed: int) -> str:
        return osp.join(args.zoo_dir, row['name'], f'seed{seed}')

    def record_of(row: dict, seed: int, result: dict) -> dict:
        pretrain = row.get('pretrain', True)
        config = osp.join(run_dir_of(row, seed), 'config.py')
        epochs = Config.fromfile(config).train_cfg.max_epochs if pretrain else 0
        return dict(result, run=f"{row['name']}/seed{seed}", name=row['name'], seed=seed,
                    config=row['config'], epochs=epochs)

    def job(row: dict, seed: int):
        def run() -> dict:
            run_dir = run_dir_of(row, seed)
            config = protocol_run_config(osp.join(REPO_ROOT, row['config']), {}, seed,
                                         run_dir)
            result = train_and_evaluate(run_dir, config, seed, threads=args.threads,
                                        train_config=config if row.get('pretrain', True)
                                        else None)
            return record_of(row, seed, result)
        return run

    for row in zoo.rows:  # runs finished by another call since the CSV was written
        for seed in row['seeds']:
            path = osp.join(run_dir_of(row, seed), 'result.json')
            run = f"{row['name']}/seed{seed}"
            if results.get(run, {}).get('status') != 'done' and osp.isfile(path):
                with open(path) as f:
                    results[run] = {key: value for key, value in
                                    record_of(row, seed, json.load(f)).items()
                                    if key in FIELDS}
    pending = [(row, seed) for row in rows for seed in row['seeds']
               if (args.seeds is None or seed in args.seeds)
               and results.get(f"{row['name']}/seed{seed}", {}).get('status') != 'done']
    jobs = [job(row, seed) for row, seed in pending]

    def save() -> list[str]:
        """Write the CSV (in the zoo's row order) and the report; returns their paths."""
        order = {row['name']: i for i, row in enumerate(zoo.rows)}
        kept = [r for r in results.values() if r['name'] in order]  # rows no longer listed go
        write_results(results_path, FIELDS, sorted(kept, key=lambda r: (order[r['name']],
                                                                        int(r['seed']))))
        return [results_path, *write_report(zoo, list(results.values()), args.zoo)]

    def record(result: dict) -> None:
        results[result['run']] = {key: result.get(key, '') for key in FIELDS}
        files = save()
        print(f"[zoo] {result['run']}: kNN {result.get('knn_top1')}, linear "
              f"{result.get('linear_top1')}, {result.get('train_seconds')} s training, "
              f"{result.get('status')}")
        if args.git_commit and result.get('status') == 'done':
            message = (f"zoo: {result['run']} (kNN {result.get('knn_top1')}, linear "
                       f"{result.get('linear_top1')})")
            for command in (['git', 'add', *files], ['git', 'commit', '-q', '-m', message,
                                                     '--', *files]):
                proc = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
                if proc.returncode != 0:  # the figures stay in the CSV for a later commit
                    print(f'[zoo] {" ".join(command[:2])} failed: {proc.stderr.strip()}')
                    break

    if not args.report_only:
        for row in {row['name']: row for row, _ in pending}.values():
            prepare_row(row)
        run_parallel(jobs, args.jobs, record)
    save()
    return results


if __name__ == '__main__':
    main()
