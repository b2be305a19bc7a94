"""The MoCo paper's comparison of the three ways to get negatives, on any MoCo config.

    python tools/analysis/negatives_study.py CONFIG --work-dir DIR
        [--mechanisms end_to_end memory_bank moco] [--sizes 256 1024 4096]
        [--end-to-end-sizes 64 128 256] [--momenta 0 0.9 0.99 0.999 0.9999]
        [--momentum-size 4096] [--moco-momentum 0.99] [--seeds 0 1 2] [--images N]
        [--epochs E] [--jobs 2] [--threads 1] [--max-runs N] [--cfg-options key=value ...]

Every cell of the grid trains ``CONFIG`` (a ``MoCo`` config) for the same budget
(``--epochs`` over the first ``--images`` training images, default all) with one
dictionary, once per seed, and evaluates it on the full protocol (kNN k=20, τ=0.07 over
the whole training split as the bank and the whole test split as queries, and a linear
probe: tools/analysis/eval_protocol.py). The cells are:

- ``end_to_end``: in-batch keys, K = the batch size (each value of
  ``--end-to-end-sizes``); the lr is scaled linearly with the batch, as in the paper;
- ``memory_bank``: K = the number of negatives sampled from the bank (``--sizes``);
- ``moco``: K = the queue length (``--sizes``) at m = ``--moco-momentum``, and the
  momentum sweep m in ``--momenta`` at K = ``--momentum-size``.

Each (cell, seed) runs in its own process under ``DIR/runs/<cell>/seed<seed>``, ``--jobs``
side by side with ``--threads`` threads each (the sweep's machinery:
``budget_runs.run_variants``). Results go to ``DIR/results.csv`` (one row per finished
run, written as soon as it finishes), ``DIR/results.md`` (per cell: mean ± sample std over
its seeds) and ``DIR/results.png`` (kNN top-1 vs K per mechanism, as the paper's Figure 3,
and vs m, as its momentum table). Run the same command again to resume: finished runs are
skipped and an interrupted one resumes from its last checkpoint.
"""
import argparse
import copy
import os
import os.path as osp
import sys
from dataclasses import dataclass
from typing import Optional

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)
from tools.analysis.budget_runs import run_variants, write_table  # noqa: E402
from tools.analysis.zoo_report import format_mean_std, summarise  # noqa: E402

MECHANISMS = ('end_to_end', 'memory_bank', 'moco')


@dataclass(frozen=True)
class Cell:
    """One run of the grid: a mechanism, its dictionary size K and (MoCo) momentum m."""
    mechanism: str
    size: int
    momentum: Optional[float] = None

    @property
    def name(self) -> str:
        short = dict(end_to_end='e2e', memory_bank='bank', moco='moco')[self.mechanism]
        suffix = f'_m{self.momentum:g}' if self.momentum is not None else ''
        return f'{short}_K{self.size}{suffix}'


def grid(args: argparse.Namespace) -> list[Cell]:
    """The cells in run order, without repeats."""
    cells = []
    for mechanism in args.mechanisms:
        if mechanism == 'end_to_end':
            cells += [Cell(mechanism, k) for k in args.end_to_end_sizes]
        elif mechanism == 'memory_bank':
            cells += [Cell(mechanism, k) for k in args.sizes]
        else:
            cells += [Cell(mechanism, k, args.moco_momentum) for k in args.sizes]
            cells += [Cell(mechanism, args.momentum_size, m) for m in args.momenta]
    return list(dict.fromkeys(cells))


def cell_overrides(base, cell: Cell, num_images: int) -> dict:
    """The overrides of ``base`` (an mmengine Config of a ``MoCo`` model) that run
    ``cell``: only the dictionary, the momentum and, for end-to-end, the batch (= K) with
    the lr scaled linearly. The dictionary replaces the config's (``_delete_``).

    Raises:
        SystemExit: naming the model type if ``base`` is not a MoCo config.
    """
    if base.model.get('type') != 'MoCo':
        raise SystemExit(f'the study needs a MoCo config, got model.type '
                         f'{base.model.get("type")}')
    dim = base.model.get('dictionary', {}).get('dim', 128)
    batch = base.train_dataloader.batch_size
    lr = base.optim_wrapper.optimizer.lr
    if cell.mechanism == 'end_to_end':
        dictionary = dict(type='InBatchKeys', _delete_=True)
        lr, batch = lr * cell.size / batch, cell.size
    elif cell.mechanism == 'memory_bank':
        dictionary = dict(type='MemoryBankKeys', size=num_images, num_negatives=cell.size,
                          dim=dim, _delete_=True)
    else:
        dictionary = dict(type='QueueKeys', queue_length=cell.size, dim=dim, _delete_=True)
    return {'model.dictionary': dictionary, 'model.ema_momentum': cell.momentum,
            'train_dataloader.batch_size': batch, 'optim_wrapper.optimizer.lr': lr}


def cell_summaries(rows: dict[str, dict], cells: list[Cell]) -> list[dict]:
    """Per cell of ``cells`` with a finished run: its settings, the number of seeds and
    mean / sample std of kNN and linear top-1 and of the training seconds."""
    summaries = []
    for cell in cells:
        done = [r for r in rows.values() if r['variant'] == cell.name and r['status'] == 'done']
        if not done:
            continue
        summary = dict(cell=cell.name, mechanism=cell.mechanism, K=cell.size,
                       momentum='' if cell.momentum is None else cell.momentum,
                       seeds=' '.join(sorted(str(r['seed']) for r in done)))
        for key in ('knn_top1', 'linear_top1', 'train_seconds'):
            mean, std = summarise([float(r[key]) for r in done])
            summary[key] = mean
            summary[key + '_std'] = std
        summaries.append(summary)
    return summaries


def plot(path: str, summaries: list[dict], args: argparse.Namespace) -> None:
    """kNN top-1 (mean ± std over seeds) vs K per mechanism (left) and vs the MoCo
    momentum (right)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, (ax_k, ax_m) = plt.subplots(1, 2, figsize=(11, 4.2))
    for mechanism, label, marker in (('end_to_end', 'end-to-end', 's'),
                                     ('memory_bank', 'memory bank', '^'),
                                     ('moco', f'MoCo (m={args.moco_momentum:g})', 'o')):
        points = sorted((s['K'], s['knn_top1'], s['knn_top1_std'] or 0) for s in summaries
                        if s['mechanism'] == mechanism and
                        (mechanism != 'moco' or s['momentum'] == args.moco_momentum))
        if points:
            ks, means, stds = zip(*points)
            ax_k.errorbar(ks, means, yerr=stds, marker=marker, capsize=3, label=label)
    momenta = sorted((s['momentum'], s['knn_top1'], s['knn_top1_std'] or 0)
                     for s in summaries
                     if s['mechanism'] == 'moco' and s['K'] == args.momentum_size)
    if momenta:
        ax_m.errorbar(range(len(momenta)), [m[1] for m in momenta],
                      yerr=[m[2] for m in momenta], marker='o', capsize=3)
        ax_m.set_xticks(range(len(momenta)), [f'{m[0]:g}' for m in momenta])
    for ax in (ax_k, ax_m):
        ax.set_ylabel('kNN top-1 (%), full protocol')
        ax.grid(alpha=0.3)
    ax_k.set_xscale('log', base=2)
    ax_k.set_xlabel('K (negatives)')
    ax_k.set_title('kNN top-1 vs dictionary size K')
    ax_k.legend()
    ax_m.set_xlabel('MoCo momentum m')
    ax_m.set_title(f'MoCo, K={args.momentum_size}')
    fig.suptitle(f'{osp.basename(args.config)}: {args.epochs or "its"} epoch(s) on '
                 f'{args.images or "all"} images; mean ± std over seeds', fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='a MoCo config')
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--mechanisms', nargs='+', default=list(MECHANISMS),
                        choices=MECHANISMS)
    parser.add_argument('--sizes', nargs='+', type=int, default=[256, 1024, 4096],
                        help='K of the memory bank and of the MoCo queue')
    parser.add_argument('--end-to-end-sizes', nargs='+', type=int, default=[64, 128, 256],
                        help='K = batch size of end-to-end')
    parser.add_argument('--momenta', nargs='*', type=float,
                        default=[0.0, 0.9, 0.99, 0.999, 0.9999])
    parser.add_argument('--momentum-size', type=int, default=4096,
                        help='K of the momentum sweep')
    parser.add_argument('--moco-momentum', type=float, default=0.99,
                        help='m of the MoCo cells of the K sweep')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0])
    parser.add_argument('--images', type=int, help='train on the first N images only')
    parser.add_argument('--epochs', type=int, help="default: the config's")
    parser.add_argument('--jobs', type=int, default=1, help='runs side by side')
    parser.add_argument('--threads', type=int, help='threads per run (OMP_NUM_THREADS)')
    parser.add_argument('--max-runs', type=int,
                        help='start at most this many runs (resume later)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='overrides of CONFIG for every cell (before the study\'s own)')
    return parser.parse_args(argv)


def main(argv=None) -> list[dict]:
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmssl.registry import DATASETS
    if not osp.isfile(args.config):
        raise SystemExit(f'config file not found: {args.config}')
    base = Config.fromfile(args.config)
    options = dict(args.cfg_options)
    if args.images:
        options['train_dataloader.dataset.indices'] = args.images
    base.merge_from_dict(options)
    init_default_scope(base.get('default_scope', 'mmssl'))
    num_images = len(DATASETS.build(copy.deepcopy(base.train_dataloader.dataset)))

    cells = grid(args)
    variants = {cell.name: {**options, **cell_overrides(base, cell, num_images)}
                for cell in cells}
    os.makedirs(args.work_dir, exist_ok=True)
    rows = run_variants(args.config, variants, args.seeds, osp.join(args.work_dir, 'runs'),
                        osp.join(args.work_dir, 'results.csv'), epochs=args.epochs,
                        jobs=args.jobs, threads=args.threads, max_runs=args.max_runs,
                        label='study')
    summaries = cell_summaries(rows, cells)
    table = [dict(s, knn=format_mean_std(s['knn_top1'], s['knn_top1_std']),
                  linear=format_mean_std(s['linear_top1'], s['linear_top1_std']),
                  seconds=f"{s['train_seconds']:.0f}") for s in summaries]
    write_table(osp.join(args.work_dir, 'results.md'), table,
                ['mechanism', 'K', 'momentum', 'seeds', 'knn', 'linear', 'seconds'])
    plot(osp.join(args.work_dir, 'results.png'), summaries, args)
    print(f'[study] {len(summaries)}/{len(cells)} cells of this grid have results in '
          f'{args.work_dir}', flush=True)
    return summaries


if __name__ == '__main__':
    main()
