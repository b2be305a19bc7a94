"""Train one config under several sets of overrides and record each run's full protocol.

    python tools/analysis/sweep.py CONFIG --work-dir DIR --out RESULTS.csv
        [--variant NAME key=value ...]... [--grid key=v1,v2 ...] [--seeds 0 1 2]
        [--epochs E] [--jobs 2] [--threads 1]

Each variant is a name and ``--cfg-options``-style overrides (``--variant base`` alone:
the config as it is); ``--grid`` adds the Cartesian product of the values given per key
(split at commas outside brackets: ``key=(0.2,1.0),(0.5,1.0)`` is two values), on top of
every ``--variant`` (default: ``base``). Every (variant, seed) trains in its own process
under ``DIR/<variant>/seed<seed>`` at ``--epochs`` (default: the config's) and is then
evaluated on the full protocol (tools/analysis/eval_protocol.py: kNN k=20, τ=0.07 with
the whole training split as the bank and the whole test split as queries, and a linear
probe). ``--jobs`` runs go side by side, each with ``--threads`` threads.

Each finished run is a row of RESULTS.csv (written as it finishes); running the same
command again resumes: finished runs are read back, interrupted ones resume from their
last checkpoint.
"""
import argparse
import itertools
import os.path as osp
import sys

from mmengine.config import DictAction

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)
from tools.analysis.budget_runs import run_variants  # noqa: E402


def split_values(text: str) -> list[str]:
    """'a,(1,2),[3,4]' -> ['a', '(1,2)', '[3,4]']: commas outside brackets split."""
    values, depth, current = [], 0, ''
    for char in text:
        depth += char in '([{'
        depth -= char in ')]}'
        if char == ',' and depth == 0:
            values.append(current)
            current = ''
        else:
            current += char
    return values + [current]


def parse_override(text: str) -> tuple[str, object]:
    """'key=value' -> (key, value parsed as mmengine's --cfg-options parses it)."""
    key, sep, value = text.partition('=')
    if not sep or not key:
        raise SystemExit(f'an override must be key=value, got {text!r}')
    return key, DictAction._parse_iterable(value)


def variants(args: argparse.Namespace) -> dict[str, dict]:
    """{variant name: overrides}: each --variant, times the --grid product."""
    base = {}
    for name, *overrides in args.variant or [['base']]:
        if name in base:
            raise SystemExit(f'--variant {name} is given twice')
        base[name] = dict(parse_override(o) for o in overrides)
    grid = [(key, split_values(values)) for key, _, values in
            (text.partition('=') for text in args.grid or [])]
    if not grid:
        return base
    result = {}
    for name, overrides in base.items():
        for values in itertools.product(*(vals for _, vals in grid)):
            extra = {key: DictAction._parse_iterable(v) for (key, _), v in zip(grid, values)}
            label = '_'.join(f'{key.split(".")[-1]}={v}' for (key, _), v in zip(grid, values))
            result[f'{name}_{label}' if name != 'base' else label] = {**overrides, **extra}
    return result


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Sweep config overrides, full protocol')
    parser.add_argument('config')
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--out', required=True, help='results CSV (resumed)')
    parser.add_argument('--variant', nargs='+', action='append', metavar='NAME [KEY=VALUE]',
                        help='a named set of overrides (repeatable)')
    parser.add_argument('--grid', nargs='+', metavar='KEY=V1,V2',
                        help='Cartesian product of values per key')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0])
    parser.add_argument('--epochs', type=int, help="default: the config's")
    parser.add_argument('--jobs', type=int, default=1, help='runs side by side')
    parser.add_argument('--threads', type=int, help='threads per run (OMP_NUM_THREADS)')
    return parser.parse_args(argv)


def main(argv=None) -> dict[str, dict]:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise SystemExit(f'config file not found: {args.config}')
    return run_variants(args.config, variants(args), args.seeds, args.work_dir, args.out,
                        epochs=args.epochs, jobs=args.jobs, threads=args.threads)


if __name__ == '__main__':
    main()
