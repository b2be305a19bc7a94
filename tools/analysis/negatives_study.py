"""The MoCo paper's comparison of the three ways to get negatives, on any MoCo config.

    python tools/analysis/negatives_study.py CONFIG --work-dir DIR
        [--mechanisms end_to_end memory_bank moco] [--sizes 256 1024 4096]
        [--end-to-end-sizes 64 128 256] [--momenta 0 0.9 0.99 0.999 0.9999]
        [--momentum-size 4096] [--moco-momentum 0.99] [--images N] [--epochs E]
        [--knn-bank N] [--knn-query N] [--max-runs N] [--cfg-options key=value ...]

Every cell of the grid trains ``CONFIG`` (a ``MoCo`` config with a ``KNNEvalHook``) for
the same budget (``--epochs`` over the first ``--images`` training images) with one
dictionary, then reads the kNN top-1 its ``KNNEvalHook`` logged before and after
training. The cells are:

- ``end_to_end``: in-batch keys, K = the batch size (each value of
  ``--end-to-end-sizes``); the lr is scaled linearly with the batch, as in the paper;
- ``memory_bank``: K = the number of negatives sampled from the bank (``--sizes``);
- ``moco``: K = the queue length (``--sizes``) at m = ``--moco-momentum``, and the
  momentum sweep m in ``--momenta`` at K = ``--momentum-size``.

Each cell runs ``tools/train.py`` in its own process under ``DIR/runs/<cell>``. Results
go to ``DIR/results.csv`` (one row per finished cell, written as soon as it finishes),
``DIR/results.md`` (the same as a Markdown table) and ``DIR/results.png`` (kNN top-1 vs K
per mechanism, as the paper's Figure 3, and vs m, as its momentum table). Run the same
command again to resume: finished cells are skipped and an interrupted cell resumes from
its last checkpoint.
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
from tools.analysis.budget_runs import (apply_budget, read_results,  # noqa: E402
                                        train_and_read_knn, write_results, write_table)

FIELDS = ['cell', 'mechanism', 'K', 'momentum', 'batch_size', 'lr', 'epochs', 'images',
          'knn_top1_init', 'knn_top1', 'seconds', 'status']
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


def cell_config(base, cell: Cell, args: argparse.Namespace, num_images: int):
    """``base`` (an mmengine Config) changed to run ``cell`` with the study's budget."""
    cfg = copy.deepcopy(base)
    if cfg.model.get('type') != 'MoCo':
        raise SystemExit(f'{args.config}: the study needs a MoCo config, got model.type '
                         f'{cfg.model.get("type")}')
    dim = cfg.model.get('dictionary', {}).get('dim', 128)
    batch = cfg.train_dataloader.batch_size
    if cell.mechanism == 'end_to_end':
        cfg.model.dictionary = dict(type='InBatchKeys')
        cfg.optim_wrapper.optimizer.lr *= cell.size / batch
        batch = cell.size
    elif cell.mechanism == 'memory_bank':
        cfg.model.dictionary = dict(type='MemoryBankKeys', size=num_images,
                                    num_negatives=cell.size, dim=dim)
    else:
        cfg.model.dictionary = dict(type='QueueKeys', queue_length=cell.size, dim=dim)
    cfg.model.ema_momentum = cell.momentum
    cfg.train_dataloader.batch_size = batch
    apply_budget(cfg, args.config, args.epochs, args.images, args.knn_bank, args.knn_query)
    return cfg


def run_cell(cfg, cell: Cell, run_dir: str) -> dict:
    """Train one cell; its CSV row."""
    row = dict(cell=cell.name, mechanism=cell.mechanism, K=cell.size,
               momentum='' if cell.momentum is None else cell.momentum,
               batch_size=cfg.train_dataloader.batch_size, lr=cfg.optim_wrapper.optimizer.lr,
               epochs=cfg.train_cfg.max_epochs,
               images=cfg.train_dataloader.dataset.get('indices', ''))
    return dict(row, **train_and_read_knn(cfg, run_dir))


def _ordered(results: dict[str, dict], cells: list[Cell]) -> list[dict]:
    """The rows of this grid's cells in grid order, then those of earlier grids."""
    names = [c.name for c in cells]
    return ([results[n] for n in names if n in results] +
            [row for n, row in results.items() if n not in names])


def plot(path: str, rows: list[dict], args: argparse.Namespace) -> None:
    """kNN top-1 vs K per mechanism (left) and vs the MoCo momentum (right)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    done = [r for r in rows if r['status'] == 'done']
    fig, (ax_k, ax_m) = plt.subplots(1, 2, figsize=(11, 4.2))
    for mechanism, label, marker in (('end_to_end', 'end-to-end', 's'),
                                     ('memory_bank', 'memory bank', '^'),
                                     ('moco', f'MoCo (m={args.moco_momentum:g})', 'o')):
        points = sorted((int(r['K']), float(r['knn_top1'])) for r in done
                        if r['mechanism'] == mechanism and
                        (mechanism != 'moco' or float(r['momentum']) == args.moco_momentum))
        if points:
            ax_k.plot(*zip(*points), marker=marker, label=label)
    momenta = sorted((float(r['momentum']), float(r['knn_top1'])) for r in done
                     if r['mechanism'] == 'moco' and int(r['K']) == args.momentum_size)
    if momenta:
        ax_m.plot(range(len(momenta)), [acc for _, acc in momenta], marker='o')
        ax_m.set_xticks(range(len(momenta)), [f'{m:g}' for m, _ in momenta])
    inits = [float(r['knn_top1_init']) for r in done]
    for ax in (ax_k, ax_m):
        if inits:
            ax.axhline(sum(inits) / len(inits), color='grey', linestyle='--',
                       label='random init')
        ax.set_ylabel('kNN top-1 (%)')
        ax.grid(alpha=0.3)
    ax_k.set_xscale('log', base=2)
    ax_k.set_xlabel('K (negatives)')
    ax_k.set_title('kNN top-1 vs dictionary size K')
    ax_k.legend()
    ax_m.set_xlabel('MoCo momentum m')
    ax_m.set_title(f'MoCo, K={args.momentum_size}')
    fig.suptitle(f'{osp.basename(args.config)}: {args.epochs} epoch(s) on '
                 f'{args.images or "all"} images', fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='a MoCo config with a KNNEvalHook')
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
    parser.add_argument('--images', type=int, help='train on the first N images only')
    parser.add_argument('--epochs', type=int, default=1)
    parser.add_argument('--knn-bank', type=int, help='kNN on the first N bank images')
    parser.add_argument('--knn-query', type=int, help='kNN on the first N query images')
    parser.add_argument('--max-runs', type=int,
                        help='stop after running this many cells (resume later)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='overrides of CONFIG for every cell (before the study\'s own)')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmssl.registry import DATASETS
    if not osp.isfile(args.config):
        raise SystemExit(f'config file not found: {args.config}')
    base = Config.fromfile(args.config)
    base.merge_from_dict(args.cfg_options)
    init_default_scope(base.get('default_scope', 'mmssl'))
    dataset_cfg = copy.deepcopy(base.train_dataloader.dataset)
    if args.images:
        dataset_cfg['indices'] = args.images
    num_images = len(DATASETS.build(dataset_cfg))  # the memory bank's N

    os.makedirs(args.work_dir, exist_ok=True)
    csv_path = osp.join(args.work_dir, 'results.csv')
    results = read_results(csv_path)
    ran = 0
    cells = grid(args)
    for cell in cells:
        if cell.name in results:
            print(f'[study] {cell.name}: already done ({results[cell.name]["status"]})')
            continue
        if args.max_runs is not None and ran >= args.max_runs:
            print(f'[study] stopping after {ran} runs (--max-runs); run again to resume')
            break
        print(f'[study] {cell.name}: training', flush=True)
        cfg = cell_config(base, cell, args, num_images)
        results[cell.name] = run_cell(cfg, cell, osp.join(args.work_dir, 'runs', cell.name))
        ran += 1
        print(f'[study] {cell.name}: kNN top-1 {results[cell.name]["knn_top1"]} '
              f'({results[cell.name]["status"]})', flush=True)
        write_results(csv_path, FIELDS, _ordered(results, cells))
    rows = _ordered(results, cells)
    write_results(csv_path, FIELDS, rows)
    write_table(osp.join(args.work_dir, 'results.md'), rows,
                ['mechanism', 'K', 'momentum', 'batch_size', 'knn_top1_init', 'knn_top1',
                 'seconds', 'status'])
    plot(osp.join(args.work_dir, 'results.png'), rows, args)
    print(f'[study] {sum(c.name in results for c in cells)}/{len(cells)} cells of this grid '
          f'in {csv_path}')


if __name__ == '__main__':
    main()
