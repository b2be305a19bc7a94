"""Draw the lasso weights α of a MultiTaskLasso run as a heat map (tasks x trunk blocks).

    python tools/analysis/plot_lasso_alpha.py WORK_DIR_OR_JSON --out alpha.png [--iter N]

Reads the ``alpha/<task>/<block>`` scalars that ``MultiTaskLasso`` logs (mmengine's
``vis_data/scalars.json``, found as ``plot_curves.py`` finds it) at the last logged
iteration (or the last one up to ``--iter``), draws one row per task and one column per
block, each cell annotated with its value, and prints the matrix. A task that picked few
layers shows few bright cells.
"""
import argparse
import os
import os.path as osp
import re
import sys
from typing import Optional, Sequence

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from tools.analysis.plot_curves import find_scalar_files, read_scalars  # noqa: E402

ALPHA = re.compile(r'^alpha/(?P<task>[^/]+)/(?P<block>\d+)$')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Heat map of the lasso weights alpha')
    parser.add_argument('source', help='a scalars.json, a run folder or a work dir')
    parser.add_argument('--out', required=True, help='the PNG file')
    parser.add_argument('--iter', type=int, help='the last iteration to read (default: all)')
    parser.add_argument('--dpi', type=int, default=100)
    return parser.parse_args(argv)


def alpha_matrix(rows: Sequence[dict], until: Optional[int] = None
                 ) -> tuple[list[str], np.ndarray, int]:
    """(task names in logged order, (T, L) α, the iteration) from the last row with α.

    Raises:
        SystemExit: if no row up to ``until`` holds ``alpha/<task>/<block>`` scalars.
    """
    for row in reversed(rows):
        it = row.get('iter', row.get('step', 0))
        if until is not None and it > until:
            continue
        cells = [(m['task'], int(m['block']), value) for key, value in row.items()
                 if (m := ALPHA.match(key))]
        if not cells:
            continue
        tasks = list(dict.fromkeys(task for task, _, _ in cells))
        matrix = np.zeros((len(tasks), max(b for _, b, _ in cells) + 1))
        for task, block, value in cells:
            matrix[tasks.index(task), block] = value
        return tasks, matrix, it
    raise SystemExit('no alpha/<task>/<block> scalars logged (a MultiTaskLasso run logs them '
                     'every logger interval)')


def plot_alpha(tasks: Sequence[str], matrix: np.ndarray, out: str, title: str = '',
               dpi: int = 100) -> None:
    """The heat map, |α| in colour, the signed value written in each cell."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * matrix.shape[1], 0.9 + 0.6 * len(tasks)),
                           dpi=dpi)
    image = ax.imshow(np.abs(matrix), cmap='viridis', aspect='auto', vmin=0)
    for (t, b), value in np.ndenumerate(matrix):
        ax.text(b, t, f'{value:.2f}', ha='center', va='center', fontsize=8,
                color='white' if abs(value) < 0.6 * np.abs(matrix).max() else 'black')
    ax.set_xticks(range(matrix.shape[1]), [f'block {b}' for b in range(matrix.shape[1])])
    ax.set_yticks(range(len(tasks)), list(tasks))
    fig.colorbar(image, ax=ax, label='|alpha|')
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)


def main(argv=None) -> np.ndarray:
    args = parse_args(argv)
    rows = read_scalars(find_scalar_files(args.source))
    tasks, matrix, it = alpha_matrix(rows, args.iter)
    plot_alpha(tasks, matrix, args.out, title=f'lasso alpha at iteration {it}', dpi=args.dpi)
    width = max(len(t) for t in tasks)
    for task, values in zip(tasks, matrix):
        print(f'{task:<{width}}  ' + '  '.join(f'{v:6.3f}' for v in values))
    print(f'-> {args.out}')
    return matrix


if __name__ == '__main__':
    main()
