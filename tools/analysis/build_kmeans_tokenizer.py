"""Build BEiT's visual tokenizer from the training data: a k-means codebook over patches.

    python tools/analysis/build_kmeans_tokenizer.py CONFIG --out CODEBOOK.pth
        [--images 20000] [--iters 20] [--seed 0] [--vocab-size V] [--device cpu]
        [--cfg-options key=value ...]

CONFIG: a BEiT (or SplitMask with token targets) config whose ``model.head.tokenizer``
is a ``KMeansTokenizer``: its ``patch_size``, ``vocab_size`` and ``norm_pix`` are used
(``--vocab-size`` overrides). The first ``--images`` images of ``train_dataloader`` go
through the config's data preprocessor in training mode (the views the encoder trains
on), are cut into patches as the tokenizer cuts them, and Lloyd's k-means (``--iters``
rounds, seeded) clusters all their patches.

Writes ``{'codebook': (V, p * p * C) float32, 'meta': {...}}`` atomically (temporary
file, then rename); the config then points ``model.head.tokenizer.codebook`` at it.
"""
import argparse
import os
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmssl.registry import DATASETS, FUNCTIONS, MODELS  # noqa: E402
from mmssl.utils.kmeans import kmeans, nearest_centroid  # noqa: E402
from mmssl.utils.progress import progress_bar  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Build a k-means visual tokenizer')
    parser.add_argument('config', help='a config with model.head.tokenizer = KMeansTokenizer')
    parser.add_argument('--out', required=True, help='the codebook file to write')
    parser.add_argument('--images', type=int, default=20000, help='training images to use')
    parser.add_argument('--iters', type=int, default=20, help='k-means rounds')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--vocab-size', type=int, help="default: the tokenizer's")
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return parser.parse_args(argv)


def tokenizer_cfg(cfg: Config) -> dict:
    tok = cfg.model.get('head', {}).get('tokenizer')
    if not tok or tok.get('type') != 'KMeansTokenizer':
        raise SystemExit(f'{cfg.filename}: model.head.tokenizer is not a KMeansTokenizer')
    return dict(tok)


def collect_patches(cfg: Config, tokenizer, images: int, batch_size: int,
                    device: str) -> torch.Tensor:
    """(M, p * p * C) patch vectors of the first ``images`` training views."""
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    preprocessor_cfg = dict(cfg.get('data_preprocessor') or cfg.model.get('data_preprocessor')
                            or dict(type='SelfSupDataPreprocessor'))
    preprocessor = MODELS.build(preprocessor_cfg).to(device)
    collate = FUNCTIONS.get(cfg.train_dataloader.get('collate_fn', {}).get(
        'type', 'default_collate'))
    count = min(images, len(dataset))
    feats = []
    for start in progress_bar(range(0, count, batch_size), 'patches', unit='batch'):
        batch = collate([dataset[i] for i in range(start, min(start + batch_size, count))])
        views = preprocessor(batch, training=True)['inputs']
        view = views[0] if isinstance(views, (list, tuple)) else views
        feats.append(tokenizer.patch_features(view).flatten(0, 1))
    return torch.cat(feats)


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmssl'))
    tok = tokenizer_cfg(cfg)
    if args.vocab_size:
        tok['vocab_size'] = args.vocab_size
    tok.pop('codebook', None)
    tokenizer = MODELS.build(tok).to(args.device)
    torch.manual_seed(args.seed)
    with torch.no_grad():
        patches = collect_patches(cfg, tokenizer, args.images, args.batch_size, args.device)
        print(f'k-means of {patches.shape[0]} patches ({patches.shape[1]}-d) into '
              f'{tokenizer.vocab_size} tokens, {args.iters} rounds')
        gen = torch.Generator().manual_seed(args.seed)
        codebook = kmeans(patches, tokenizer.vocab_size, args.iters, generator=gen,
                          progress=True).cpu()
        used = torch.unique(torch.cat([nearest_centroid(part, codebook.to(part.device))
                                       for part in patches.split(65536)])).numel()
    print(f'{used} of {tokenizer.vocab_size} tokens in use on these patches')
    meta = dict(config=osp.abspath(args.config), images=args.images, patches=int(patches.shape[0]),
                iters=args.iters, seed=args.seed, patch_size=tokenizer.patch_size,
                vocab_size=tokenizer.vocab_size, norm_pix=tokenizer.norm_pix)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    tmp = args.out + '.tmp'
    with open(tmp, 'wb') as f:
        torch.save(dict(codebook=codebook.float(), meta=meta), f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, args.out)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
