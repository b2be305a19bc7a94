"""How sparse the counting vector phi(x) of a counting model is.

    python tools/analysis/counting_sparsity.py CONFIG CHECKPOINT [--images 2000]
        [--batch-size 64] [--out sparsity.json] [--device cpu] [--cfg-options key=value ...]

CONFIG: a ``Counting`` config (e.g. configs/counting/counting_resnet18_1xb256-coslr-1e_fmnist.py);
CHECKPOINT: its training checkpoint (backbone and head), or ``none`` for the initial weights.
The first ``--images`` images of ``train_dataloader`` go through the config's pipeline
(``CountingViews``: the downsampled image D(x) and its four tiles T_j(x)) and the model in
eval mode; every view's count vector is read. Noroozi et al. (2017) observe that a trained
phi has few non-zero outputs; this reports, per kind of view (``downsampled``, ``tiles``)
and for all:

- ``zero_fraction``: the fraction of count entries that are exactly 0 (ReLU off);
- ``nonzero_per_vector``: the mean number of non-zero counts per vector (of ``dims``);
- ``dead_dims``: dimensions that are 0 for every view read;
- ``mean_count``: the mean count value.

Prints a table and writes the figures as JSON with ``--out``.
"""
import argparse
import json
import os.path as osp
import sys
from typing import Optional

import torch
from mmengine.config import Config, DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmssl.apis import build_feature_dataloader  # noqa: E402
from mmssl.registry import MODELS  # noqa: E402
from mmssl.utils import register_all_modules  # noqa: E402
from mmssl.utils.atomic_io import atomic_write_text  # noqa: E402
from mmssl.utils.checkpoint_loading import load_state_dict_file  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Report how sparse a counting model's "
                                     'count vectors are')
    parser.add_argument('config', help='a Counting config')
    parser.add_argument('checkpoint', help="its checkpoint, or 'none' for the initial weights")
    parser.add_argument('--images', type=int, default=2000, help='training images to read')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--out', help='write the figures here as JSON')
    parser.add_argument('--device', help='default: cuda if available, else cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return parser.parse_args(argv)


def build_counting_model(cfg: Config, checkpoint: Optional[str]) -> torch.nn.Module:
    """The config's ``Counting`` model with the checkpoint's weights (all of them)."""
    if cfg.model.get('type') != 'Counting':
        raise ValueError(f'{cfg.filename}: model.type is {cfg.model.get("type")!r}, not '
                         f"'Counting'")
    model_cfg = cfg.model.copy()
    if cfg.get('data_preprocessor'):
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    model.init_weights()
    if checkpoint is not None and checkpoint.lower() != 'none':
        state = load_state_dict_file(checkpoint)
        state = {key: value for key, value in state.items() if not key.startswith('online_probe')}
        result = model.load_state_dict(state, strict=False)
        if result.missing_keys or result.unexpected_keys:
            raise ValueError(f'{checkpoint} does not fit {cfg.filename}: missing '
                             f'{result.missing_keys[:5]}, unexpected {result.unexpected_keys[:5]}')
    return model.eval()


def sparsity(counts: torch.Tensor) -> dict:
    """Figures of (M, D) non-negative count vectors (see the module docstring)."""
    active = counts > 0
    return dict(vectors=counts.shape[0], dims=counts.shape[1],
                zero_fraction=round(1.0 - active.float().mean().item(), 6),
                nonzero_per_vector=round(active.sum(dim=1).float().mean().item(), 4),
                dead_dims=int((~active.any(dim=0)).sum()),
                mean_count=round(counts.mean().item(), 6))


@torch.no_grad()
def count_vectors(model: torch.nn.Module, loader, images: int) -> dict[str, torch.Tensor]:
    """{'downsampled': (N, D), 'tiles': (4N, D)} count vectors of the loader's first
    ``images`` images, printing progress."""
    parts = {'downsampled': [], 'tiles': []}
    seen = 0
    for batch in loader:
        views = model.data_preprocessor(batch, training=False)['inputs']
        views = model.split_views(views, model.num_views)
        feats = model.view_features(views)  # (5, N, C)
        counts = model.task.counts(feats)  # (5, N, K)
        parts['downsampled'].append(counts[0].cpu())
        parts['tiles'].append(counts[1:].flatten(0, 1).cpu())
        seen += feats.shape[1]
        print(f'[counting_sparsity] {min(seen, images)}/{images} images', flush=True)
        if seen >= images:
            break
    return {name: torch.cat(chunks) for name, chunks in parts.items()}


def main(argv=None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config}')
    if args.checkpoint.lower() != 'none' and not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint file not found: {args.checkpoint}')
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model = build_counting_model(cfg, args.checkpoint).to(device)
    cfg.train_dataloader.batch_size = args.batch_size
    loader = build_feature_dataloader(cfg, 'train', max_images=args.images)
    counts = count_vectors(model, loader, args.images)
    counts['all'] = torch.cat([counts['downsampled'], counts['tiles']])
    report = dict(config=args.config, checkpoint=args.checkpoint,
                  **{name: sparsity(value) for name, value in counts.items()})
    print(f"{'views':<12} {'vectors':>8} {'dims':>5} {'zero %':>7} {'non-zero/vec':>13} "
          f"{'dead dims':>9} {'mean':>9}")
    for name in ('downsampled', 'tiles', 'all'):
        row = report[name]
        print(f"{name:<12} {row['vectors']:>8} {row['dims']:>5} "
              f"{100 * row['zero_fraction']:>7.2f} {row['nonzero_per_vector']:>13.2f} "
              f"{row['dead_dims']:>9} {row['mean_count']:>9.4f}")
    if args.out:
        atomic_write_text(args.out, json.dumps(report, indent=1) + '\n')
    return report


if __name__ == '__main__':
    main()
