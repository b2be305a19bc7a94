"""t-SNE of backbone features, one point per image coloured by its label, as a PNG.

    # from the .npy files of tools/analysis/extract_features.py
    python tools/analysis/visualize_tsne.py --features DIR [--stage res5] --out tsne.png
    # or straight from a config and a checkpoint (features extracted here)
    python tools/analysis/visualize_tsne.py CONFIG CHECKPOINT [--dataset test]
        [--max-images 2000] [--stage res5] --out tsne.png

Options: ``--perplexity 30``, ``--seed 0``, ``--pca-dims 50`` (features are reduced to
that many dimensions with PCA first, the usual practice; 0 to skip), ``--size 6``
(inches; the PNG is ``size * dpi`` pixels square), ``--dpi 100``, ``--title``.
Class names for the legend come from ``meta.json`` of the features folder or the
dataset's ``classes`` (else the label values). Multi-label labels (VOC's (N, K) in
{1, -1, 0}) are coloured by each image's first present class.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Optional, Sequence

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='t-SNE of backbone features, as a PNG')
    parser.add_argument('config', nargs='?', help='config file (without --features)')
    parser.add_argument('checkpoint', nargs='?', help="checkpoint, or 'none' (with CONFIG)")
    parser.add_argument('--features', help='a folder written by extract_features.py')
    parser.add_argument('--stage', help='which stage (default: the last one)')
    parser.add_argument('--dataset', default='test',
                        help='with CONFIG: as extract_features.py (test: the test images)')
    parser.add_argument('--max-images', type=int, default=2000,
                        help='with CONFIG: the first N images (default 2000)')
    parser.add_argument('--device', help='with CONFIG: default cuda if available, else cpu')
    parser.add_argument('--out', required=True, help='the PNG file')
    parser.add_argument('--perplexity', type=float, default=30.0)
    parser.add_argument('--pca-dims', type=int, default=50)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--size', type=float, default=6.0, help='figure side in inches')
    parser.add_argument('--dpi', type=int, default=100)
    parser.add_argument('--title', help='default: the stage and the source')
    args = parser.parse_args(argv)
    if (args.features is None) == (args.config is None):
        parser.error('give either --features DIR or CONFIG CHECKPOINT')
    if args.config is not None and args.checkpoint is None:
        parser.error("CONFIG needs a CHECKPOINT (or 'none')")
    return args


def tsne_embedding(feats: np.ndarray, perplexity: float = 30.0, pca_dims: int = 50,
                   seed: int = 0) -> np.ndarray:
    """(N, 2) seeded t-SNE of (N, D) features (PCA to ``pca_dims`` first, if smaller)."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    feats = np.asarray(feats, dtype=np.float32)
    if pca_dims and feats.shape[1] > pca_dims and len(feats) > pca_dims:
        feats = PCA(n_components=pca_dims, random_state=seed).fit_transform(feats)
    perplexity = min(perplexity, max(1.0, (len(feats) - 1) / 3))  # sklearn: < n_samples
    return TSNE(n_components=2, perplexity=perplexity, init='pca', learning_rate='auto',
                random_state=seed).fit_transform(feats)


def class_of(labels: np.ndarray) -> np.ndarray:
    """(N,) one colour index per image: the label, or the first present class (-1: none)."""
    labels = np.asarray(labels)
    if labels.ndim == 1:
        return labels.astype(int)
    present = labels == 1
    return np.where(present.any(axis=1), present.argmax(axis=1), -1)


def plot_tsne(points: np.ndarray, labels: np.ndarray, out: str,
              class_names: Optional[Sequence[str]] = None, title: str = '',
              size: float = 6.0, dpi: int = 100) -> None:
    """A square PNG of ``size * dpi`` pixels: the points coloured by label, with a legend."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    values = sorted(set(labels.tolist()))
    cmap = plt.get_cmap('tab10' if len(values) <= 10 else 'tab20')
    fig = plt.figure(figsize=(size, size), dpi=dpi)
    ax = fig.add_axes([0.02, 0.02, 0.74, 0.9])
    for i, value in enumerate(values):
        mask = labels == value
        if class_names is not None and 0 <= value < len(class_names):
            name = str(class_names[value])
        else:
            name = 'none' if value == -1 else str(value)
        ax.scatter(points[mask, 0], points[mask, 1], s=3, color=cmap(i % cmap.N),
                   label=name, linewidths=0, rasterized=True)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.suptitle(title, fontsize=9, y=0.97)
    ax.legend(loc='center left', bbox_to_anchor=(1.01, 0.5), fontsize=8, markerscale=3,
              frameon=False)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=dpi)  # no bbox_inches='tight': the size stays size * dpi
    plt.close(fig)


def load_features(folder: str, stage: Optional[str]) -> tuple:
    """(features, labels, class names, stage) from an extract_features.py folder."""
    meta_path = osp.join(folder, 'meta.json')
    meta = json.load(open(meta_path)) if osp.isfile(meta_path) else {}
    stages = meta.get('stages') or sorted(
        f[:-4] for f in os.listdir(folder)
        if f.endswith('.npy') and f not in ('labels.npy', 'knn_bank.npy'))
    stage = stage or (stages[-1] if stages else None)
    path = osp.join(folder, f'{stage}.npy')
    if stage is None or not osp.isfile(path):
        raise SystemExit(f'no features {path}; {folder} holds the stages {stages}')
    labels_path = osp.join(folder, 'labels.npy')
    if not osp.isfile(labels_path):
        raise SystemExit(f'{labels_path} not found: t-SNE colours the points by label')
    return np.load(path), np.load(labels_path), meta.get('classes'), stage


def main(argv=None) -> str:
    args = parse_args(argv)
    if args.features is not None:
        feats, labels, classes, stage = load_features(args.features, args.stage)
        source = args.features
    else:
        from mmssl.apis import build_feature_model, extract_features
        checkpoint = None if args.checkpoint.lower() == 'none' else args.checkpoint
        if checkpoint is not None and not osp.isfile(checkpoint):
            raise SystemExit(f'checkpoint file not found: {checkpoint}')
        model = build_feature_model(args.config, checkpoint,
                                    [args.stage] if args.stage else None, device=args.device)
        stage = model.stages[-1]
        from mmengine.config import Config

        from tools.analysis.extract_features import dataset_loader
        loader = dataset_loader(Config.fromfile(args.config), args.dataset, args.max_images)
        result = extract_features(model, loader, [stage])
        if 'labels' not in result:
            raise SystemExit(f'{args.dataset}_dataloader gives no gt_label to colour by')
        feats, labels = result[stage], result['labels']
        classes = loader.dataset.metainfo.get('classes')
        source = osp.basename(args.checkpoint)
    if len(feats) != len(labels):
        raise SystemExit(f'{len(feats)} feature rows but {len(labels)} labels')
    points = tsne_embedding(feats, args.perplexity, args.pca_dims, args.seed)
    title = args.title or f't-SNE of {stage} features ({len(feats)} images), {source}'
    plot_tsne(points, class_of(labels), args.out, classes, title, args.size, args.dpi)
    print(f't-SNE of {len(feats)} {stage} features -> {args.out}')
    return args.out


if __name__ == '__main__':
    main()
