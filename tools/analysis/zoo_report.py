"""The model zoo's report, written from its results by tools/analysis/train_zoo.py after
every finished run (``train_zoo.py --report-only`` rewrites it alone).

Writes the table of the zoo's ``markdown`` page (one row per zoo row: kNN and linear top-1
as mean ± sample standard deviation over the finished seeds, training time, the command;
between two marker comments, so the text around it stays), the metafile in
OpenMMLab's model-index format (the zoo's ``metafile``, imported by its ``model_index``)
and the zoo's ``plot`` (the main rows' kNN against their training time, with the random
initialisation and raw pixels for scale); the paths are values of the zoo file.
"""
import os
import os.path as osp
import statistics
from typing import Optional

import yaml

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FIELDS = ['run', 'name', 'seed', 'config', 'epochs', 'train_seconds', 'knn_top1', 'knn_top5',
          'linear_top1', 'linear_top5', 'linear_weight_decay', 'status']


def summarise(values: list[float]) -> tuple[Optional[float], Optional[float]]:
    """(mean, sample standard deviation) of ``values``; None where undefined."""
    if not values:
        return None, None
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else None


def format_mean_std(mean: Optional[float], std: Optional[float], digits: int = 2) -> str:
    """"mean ± std" (std left out when None; "—" without a mean)."""
    if mean is None:
        return '—'
    return f'{mean:.{digits}f}' + (f' ± {std:.{digits}f}' if std is not None else '')


def row_summaries(zoo, results: list[dict]) -> list[dict]:
    """Per zoo row: the finished seeds and the mean/std of each figure."""
    summaries = []
    for row in zoo.rows:
        done = [r for r in results if r['name'] == row['name'] and r['status'] == 'done']
        done.sort(key=lambda r: int(r['seed']))
        summary = dict(row, seeds_done=[int(r['seed']) for r in done],
                       epochs=done[0]['epochs'] if done else '')
        for key in ('knn_top1', 'linear_top1', 'train_seconds'):
            summary[key] = summarise([float(r[key]) for r in done])
        summaries.append(summary)
    return summaries


def command(zoo_path: str, row: dict) -> str:
    return (f'python tools/analysis/train_zoo.py {zoo_path} --rows {row["name"]}'
            f' --seeds {" ".join(str(s) for s in row["seeds"])}')


TABLE_START, TABLE_END = '<!-- zoo table: written by tools/analysis/zoo_report.py -->', \
    '<!-- end of zoo table -->'


def write_markdown(path: str, zoo_path: str, summaries: list[dict]) -> None:
    """Write the table (and the commands) between the markers of the page at ``path``,
    keeping the text around them (a new page gets the markers only)."""
    lines = [TABLE_START, '',
             '| row | config | epochs | training (min) | seeds | kNN top-1 | linear top-1 |',
             '|---|---|---:|---:|---|---:|---:|']
    for s in summaries:
        minutes = s['train_seconds']
        minutes = (minutes[0] / 60, minutes[1] / 60 if minutes[1] is not None else None) \
            if minutes[0] is not None else (None, None)
        seeds = ', '.join(map(str, s['seeds_done'])) or 'not run yet'
        lines.append(f"| {s['name']} | `{s['config']}` | {s['epochs']} | "
                     f"{format_mean_std(*minutes, digits=1) if s.get('pretrain', True) else '0'} | "
                     f"{seeds} | {format_mean_std(*s['knn_top1'])} | "
                     f"{format_mean_std(*s['linear_top1'])} |")
    lines += ['', 'Each row is reproduced (checkpoints under `work_dirs/zoo/<row>/seed<s>/`, '
              'figures into the results CSV) by:', '', '```bash']
    lines += [command(zoo_path, s) for s in summaries]
    lines += ['```', '', TABLE_END]
    before, after = '', '\n'
    if osp.isfile(path):
        with open(path) as f:
            text = f.read()
        if TABLE_START in text and TABLE_END in text:
            before = text[:text.index(TABLE_START)]
            after = text[text.index(TABLE_END) + len(TABLE_END):]
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        f.write(before + '\n'.join(lines) + after)


def write_metafile(path: str, zoo, summaries: list[dict]) -> None:
    """OpenMMLab's metafile: one Collection per algorithm, one Model per zoo row."""
    collections, models = {}, []
    for s in summaries:
        algorithm = osp.basename(osp.dirname(s['config']))  # configs/<algorithm>/...
        collections.setdefault(algorithm, dict(Name=algorithm))
        metrics = {}
        if s['knn_top1'][0] is not None:
            metrics = {'kNN Top 1 Accuracy': round(s['knn_top1'][0], 2),
                       'kNN Top 1 Std': round(s['knn_top1'][1] or 0.0, 2),
                       'Linear Top 1 Accuracy': round(s['linear_top1'][0], 2),
                       'Linear Top 1 Std': round(s['linear_top1'][1] or 0.0, 2)}
        models.append({
            'Name': s['name'], 'In Collection': algorithm, 'Config': s['config'],
            'Metadata': {'Training Data': zoo.dataset, 'Epochs': int(s['epochs'] or 0),
                         'Pretrained': s.get('pretrain', True),
                         'Training Resources': zoo.resources,
                         'Training Time (s)': round(s['train_seconds'][0] or 0.0, 1),
                         'Seeds': s['seeds_done']},
            'Results': [{'Task': 'Self-Supervised Learning', 'Dataset': zoo.dataset,
                         'Metrics': metrics}] if metrics else None,
            'Weights': None})
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        yaml.safe_dump({'Collections': list(collections.values()), 'Models': models}, f,
                       sort_keys=False, allow_unicode=True)


def write_plot(path: str, zoo, summaries: list[dict]) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for s in summaries:
        mean, std = s['knn_top1']
        if mean is None:
            continue
        if not s.get('pretrain', True):
            ax.axhline(mean, color='grey', linestyle=':', linewidth=1)
            ax.annotate(s['name'], (0, mean), fontsize=7, color='grey',
                        textcoords='offset points', xytext=(2, 2))
        elif s.get('main'):
            minutes = s['train_seconds'][0] / 60
            ax.errorbar(minutes, mean, yerr=std or 0, fmt='o', capsize=3)
            ax.annotate(s['name'], (minutes, mean), fontsize=7, textcoords='offset points',
                        xytext=(4, 4))
    ax.axhline(zoo.raw_pixels_knn, color='red', linestyle='--', linewidth=1)
    ax.annotate(f'raw pixels {zoo.raw_pixels_knn}', (0, zoo.raw_pixels_knn), fontsize=7,
                color='red', textcoords='offset points', xytext=(2, 2))
    ax.set_xlabel('training time (minutes, 1 thread per run)')
    ax.set_ylabel('kNN top-1 (%), full protocol')
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    os.makedirs(osp.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(zoo, results: list[dict], zoo_path: Optional[str] = None) -> list[str]:
    """Write the zoo's Markdown page, metafile and plot, and add the metafile to the model
    index; returns their paths."""
    zoo_path = osp.relpath(osp.abspath(zoo_path or zoo.filename), REPO_ROOT)
    summaries = row_summaries(zoo, results)
    paths = [osp.join(REPO_ROOT, p) for p in (zoo.markdown, zoo.metafile, zoo.plot,
                                              zoo.model_index)]
    write_markdown(paths[0], zoo_path, summaries)
    write_metafile(paths[1], zoo, summaries)
    write_plot(paths[2], zoo, summaries)
    add_to_model_index(paths[3], zoo.metafile)
    return paths


def add_to_model_index(path: str, metafile: str) -> None:
    """Make the model index at ``path`` import ``metafile`` first, keeping its other
    imports (the per-algorithm metafiles of tools/analysis/write_metafiles.py)."""
    index = {}
    if osp.isfile(path):
        with open(path) as f:
            index = yaml.safe_load(f) or {}
    imports = [metafile] + [i for i in index.get('Import', []) if i != metafile]
    if imports != index.get('Import'):
        with open(path, 'w') as f:
            yaml.safe_dump(dict(index, Import=imports), f, sort_keys=False)
