"""Plot logged scalars (loss, kNN accuracy, lr, ...) of a training run against the iteration.

    python tools/analysis/plot_curves.py WORK_DIR_OR_JSON [--keys loss knn/top1]
        [--all-runs] --out curves.png

Reads mmengine's ``vis_data/scalars.json``: one JSON object per line. Training rows
(written by the ``LoggerHook`` every ``interval`` iterations) hold the smoothed ``loss``,
``lr``, ``time``, ... with ``epoch`` (epoch-based training), ``iter`` (the global
iteration) and ``step`` (= ``iter``). Evaluation rows have no ``iter``: mmssl's
``KNNEvalHook`` writes ``knn/top1``, ``knn/top5`` with ``step`` = the iterations done
(0 for the evaluation before training); mmengine's ``ValLoop`` writes its metrics with
``step`` = the epoch when ``default_hooks.logger.log_metric_by_epoch`` is True (its
default for epoch-based training). Each key is drawn at ``iter`` when its row has one,
else at ``step``; one panel per key.

WORK_DIR_OR_JSON: a ``scalars.json`` file, a run folder (``<work_dir>/<timestamp>``) or a
work dir; for a work dir, the newest run's file is read (``--all-runs``: every run's, in
time order: a resumed run logs to a new timestamp folder).
"""
import argparse
import glob
import json
import os
import os.path as osp
from typing import Optional, Sequence

DEFAULT_KEYS = ('loss', 'knn/top1')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Plot training curves from scalars.json')
    parser.add_argument('source', help='a scalars.json, a run folder or a work dir')
    parser.add_argument('--keys', nargs='+', help=f'scalars to plot (default: those of '
                        f'{list(DEFAULT_KEYS)} that were logged)')
    parser.add_argument('--all-runs', action='store_true',
                        help='a work dir: join every run, oldest first (resumed runs)')
    parser.add_argument('--out', required=True, help='the PNG file')
    parser.add_argument('--title', help='default: the source')
    parser.add_argument('--dpi', type=int, default=100)
    return parser.parse_args(argv)


def find_scalar_files(source: str, all_runs: bool = False) -> list[str]:
    """The ``scalars.json`` files ``source`` stands for (see the module docstring)."""
    if osp.isfile(source):
        return [source]
    for pattern in ('scalars.json', osp.join('vis_data', 'scalars.json'),
                    osp.join('*', 'vis_data', 'scalars.json')):
        found = sorted(glob.glob(osp.join(source, pattern)))
        if found:
            return found if all_runs else found[-1:]
    raise SystemExit(f'no scalars.json in {source} (looked for scalars.json, '
                     f'vis_data/scalars.json and */vis_data/scalars.json)')


def read_scalars(paths: Sequence[str]) -> list[dict]:
    """The rows of the files, in order; a line that is not JSON is an error naming it."""
    rows = []
    for path in paths:
        with open(path) as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise SystemExit(f'{path}:{number}: not a JSON line ({err})') from err
    return rows


def curves(rows: Sequence[dict], keys: Sequence[str], source: str = 'the log') -> dict:
    """``{key: (xs, ys)}``; x is the row's ``iter``, else its ``step``.

    Raises:
        SystemExit: naming ``source`` and the keys that exist, if a key was never logged.
    """
    available = sorted({k for row in rows for k in row if k not in ('iter', 'step', 'epoch')})
    missing = [key for key in keys if key not in available]
    if missing:
        raise SystemExit(f'{source} has no {", ".join(map(repr, missing))}; logged keys: '
                         f'{", ".join(available) or "none"}')
    result = {}
    for key in keys:
        points = sorted((row.get('iter', row.get('step', 0)), row[key])
                        for row in rows if key in row)
        result[key] = ([p[0] for p in points], [p[1] for p in points])
    return result


def plot_curves(data: dict, out: str, title: str = '', dpi: int = 100) -> None:
    """One panel per key, stacked, sharing the iteration axis."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(len(data), 1, figsize=(6, 2.2 * len(data) + 0.6), dpi=dpi,
                             sharex=True, squeeze=False)
    for ax, (key, (xs, ys)) in zip(axes[:, 0], data.items()):
        marker = 'o' if len(xs) <= 20 else None
        ax.plot(xs, ys, marker=marker, markersize=3, linewidth=1)
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel('iteration')
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)


def main(argv=None) -> Optional[str]:
    args = parse_args(argv)
    paths = find_scalar_files(args.source, args.all_runs)
    rows = read_scalars(paths)
    source = paths[0] if len(paths) == 1 else f'{len(paths)} runs under {args.source}'
    keys = args.keys
    if not keys:
        logged = {k for row in rows for k in row}
        keys = [key for key in DEFAULT_KEYS if key in logged]
        if not keys:
            curves(rows, DEFAULT_KEYS, source)  # the error lists what was logged
    data = curves(rows, keys, source)
    plot_curves(data, args.out, args.title or source, args.dpi)
    print(f'{", ".join(keys)} from {source} -> {args.out}')
    return args.out


if __name__ == '__main__':
    main()
