"""Mine the patch graph of transitive invariance and write its patch crops.

    python tools/dataset_converters/mine_transitive_graph.py --out data/transitive/graph.json
        [--videos DIR] [--images DIR --clusters K [--neighbours 10]
         [--config CONFIG --checkpoint CKPT]] [--patch-size 64] [--stride S] [--every K]
        [--min-motion PX] [--max-frames T] [--max-side PX] [--max-corners P]
        [--crop-dir DIR] [--keep-isolated] [--seed 0] [--device cpu]

- ``--videos DIR``: every video under DIR (``.avi .mp4 .mov .mkv .webm .mpg``, recursive,
  sorted) is decoded with OpenCV; good features of its first frame are tracked with KLT
  (forward-backward checked) and a ``--patch-size`` box around each tracked point, in the
  first frame, every ``--every`` frames and the last, gives the nodes of one track, the
  first linked to the others by ``'intra'`` edges.
- ``--images DIR``: every image under DIR is cut into a grid of ``--patch-size`` patches
  (step ``--stride``, default the patch size); their features are the pooled last stage of
  ``--config``'s backbone with ``--checkpoint``'s weights (a context-prediction model in
  the paper), or, without ``--config``, raw pixels (16 x 16, mean-subtracted,
  L2-normalised: for demos). k-means into ``--clusters`` clusters, ``--neighbours``
  cosine nearest neighbours inside a cluster, and the edges of 4-cliques become
  ``'inter'`` edges. Image patches without an edge are dropped (they give no positive)
  unless ``--keep-isolated`` (negatives only).

Writes ``--out`` (the graph JSON, see ``mmssl.datasets.transitive_graph.PatchGraph``) and
every node's crop as a JPEG in ``--crop-dir`` (default: ``patches/`` beside ``--out``),
which ``TransitiveTripletDataset`` loads with ``LoadImageFromFile``.
"""
import argparse
import os.path as osp
import sys
from typing import Optional

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmssl.datasets.image_folder import IMG_EXTENSIONS, find_files  # noqa: E402
from mmssl.datasets.transitive_graph import (VIDEO_EXTENSIONS, PatchGraph,  # noqa: E402
                                             image_patches, inter_instance_edges, mine_video,
                                             raw_pixel_features)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Mine a transitive-invariance patch graph')
    parser.add_argument('--videos', help='folder of videos (intra-instance edges)')
    parser.add_argument('--images', help='folder of images (inter-instance edges)')
    parser.add_argument('--config', help='config whose model.backbone gives the image '
                        'patch features (default: raw pixels)')
    parser.add_argument('--checkpoint', help="weights for --config ('none': random)")
    parser.add_argument('--clusters', type=int, help='k-means clusters (with --images)')
    parser.add_argument('--neighbours', type=int, default=10,
                        help='nearest neighbours inside a cluster')
    parser.add_argument('--patch-size', type=int, default=64, help='patch side in pixels')
    parser.add_argument('--stride', type=int, help='image grid step (default: patch size)')
    parser.add_argument('--every', type=int, help='also a node every K frames of a track '
                        '(default: first and last frame only)')
    parser.add_argument('--min-motion', type=float, default=0.0,
                        help='keep tracks that move at least this many pixels')
    parser.add_argument('--max-frames', type=int, default=30,
                        help='frames read per video (the paper tracks over 30)')
    parser.add_argument('--max-side', type=int, help='downscale frames to this longer side')
    parser.add_argument('--max-corners', type=int, default=50, help='tracks per video')
    parser.add_argument('--crop-dir', help='where the crops go (default: patches/ beside '
                        '--out)')
    parser.add_argument('--keep-isolated', action='store_true',
                        help='keep image patches without an edge')
    parser.add_argument('--seed', type=int, default=0, help='k-means seed')
    parser.add_argument('--device', help='for --config features (default: cuda if any)')
    parser.add_argument('--out', required=True, help='the graph JSON to write')
    args = parser.parse_args(argv)
    if not args.videos and not args.images:
        parser.error('give --videos DIR, --images DIR or both')
    for flag in ('videos', 'images'):
        folder = getattr(args, flag)
        if folder and not osp.isdir(folder):
            parser.error(f'--{flag} {folder!r} is not a folder')
    if args.images and not args.clusters:
        parser.error('--images needs --clusters K')
    if args.checkpoint and not args.config:
        parser.error('--checkpoint needs --config')
    if args.config and not osp.isfile(args.config):
        parser.error(f'--config {args.config!r} not found')
    for flag in ('clusters', 'neighbours', 'patch_size', 'stride', 'every', 'max_frames',
                 'max_side', 'max_corners'):
        value = getattr(args, flag)
        if value is not None and value < 1:
            parser.error(f"--{flag.replace('_', '-')} must be >= 1, got {value}")
    return args


def backbone_features(crops: list[np.ndarray], config: str, checkpoint: Optional[str],
                      device: Optional[str] = None, batch_size: int = 64) -> np.ndarray:
    """(N, C) pooled last-stage features of the BGR crops by ``config``'s backbone."""
    from mmssl.apis import build_feature_model, extract_features
    model = build_feature_model(config, checkpoint, device=device)
    batches = [dict(inputs=torch.from_numpy(np.stack(crops[i:i + batch_size]))
                    .permute(0, 3, 1, 2).contiguous())
               for i in range(0, len(crops), batch_size)]
    feats = extract_features(model, batches)
    return feats[model.stages[-1]]


def mine(args: argparse.Namespace) -> PatchGraph:
    """The graph of ``args``, crops written (see the module docstring)."""
    graph = PatchGraph()
    crop_dir = args.crop_dir or osp.join(osp.dirname(osp.abspath(args.out)), 'patches')
    if args.videos:
        videos = find_files(args.videos, VIDEO_EXTENSIONS)
        if not videos:
            raise FileNotFoundError(f'--videos {args.videos!r}: no video with extensions '
                                    f'{VIDEO_EXTENSIONS}')
        for video in videos:
            records, crops, edges = mine_video(
                video, patch_size=args.patch_size, every=args.every,
                min_motion=args.min_motion, max_frames=args.max_frames,
                max_side=args.max_side, max_corners=args.max_corners,
                min_distance=args.patch_size / 4)
            first = graph.add(records, edges, 'intra')
            graph.write_crops(crops, crop_dir, args.out, first=first)
            print(f'{video}: {len(records)} patches, {len(edges)} intra edges')
    if args.images:
        images = find_files(args.images, IMG_EXTENSIONS)
        if not images:
            raise FileNotFoundError(f'--images {args.images!r}: no image with extensions '
                                    f'{IMG_EXTENSIONS}')
        records, crops = image_patches(images, args.patch_size, args.stride)
        if len(records) < args.clusters:
            raise ValueError(f'--clusters {args.clusters} exceeds the {len(records)} '
                             f'patches of --images {args.images!r}')
        feats = (backbone_features(crops, args.config, args.checkpoint, args.device)
                 if args.config else raw_pixel_features(crops))
        edges = inter_instance_edges(feats, args.clusters, args.neighbours, args.seed)
        if not args.keep_isolated:  # renumber the linked patches
            linked = sorted({i for edge in edges for i in edge})
            new = {old: num for num, old in enumerate(linked)}
            records = [records[i] for i in linked]
            crops = [crops[i] for i in linked]
            edges = [(new[i], new[j]) for i, j in edges]
        first = graph.add(records, edges, 'inter')
        graph.write_crops(crops, crop_dir, args.out, first=first)
        print(f'{args.images}: {len(images)} images, {len(records)} patches, '
              f'{len(edges)} inter edges')
    return graph


def main(argv=None) -> None:
    args = parse_args(argv)
    graph = mine(args)
    graph.save(args.out)
    sizes = np.bincount(graph.components()) if graph.nodes else np.zeros(0, int)
    print(f'wrote {args.out}: {len(graph.nodes)} nodes, {len(graph.edges)} edges, '
          f'{int((sizes > 1).sum())} components with a positive pair')


if __name__ == '__main__':
    main()
