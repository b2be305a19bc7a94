"""Mine the patch graph of transitive invariance and write its patch crops.

    python tools/dataset_converters/mine_transitive_graph.py --out data/transitive/graph.json
        [--videos DIR] [--frames DIR ...] [--clusters K [--neighbours 10]
         [--link-same-video] [--config CONFIG --checkpoint CKPT]] [--images DIR]
        [--patch-size 64] [--stride S] [--every K] [--min-motion PX] [--max-frames T]
        [--max-side PX] [--max-corners P] [--crop-dir DIR] [--keep-isolated] [--seed 0]
        [--device cpu] [--score-labelme LABEL ...]

Both kinds of edge are mined on the same tracked patches (Wang, He & Gupta 2017):

- ``--videos DIR``: every video under DIR (``.avi .mp4 .mov .mkv .webm .mpg``, recursive,
  sorted); ``--frames DIR`` (repeatable): one video stored as frame images, in name order.
  Good features of the first frame are tracked with KLT (forward-backward checked) and a
  ``--patch-size`` box around each tracked point, in the first frame, every ``--every``
  frames and the last, gives the nodes of one track, the first (the track's head) linked
  to the others by ``'intra'`` edges.
- With ``--clusters K``: the features of the track heads (and of the ``--images`` grid
  patches, if any) are the pooled last stage of ``--config``'s backbone with
  ``--checkpoint``'s weights (a context-prediction model in the paper), or, without
  ``--config``, raw pixels (16 x 16, mean-subtracted, L2-normalised: for demos). k-means
  into K clusters, the ``--neighbours`` mutual cosine nearest neighbours inside a cluster
  (not in the patch's own video unless ``--link-same-video``: two tracks of one video
  may be one object) and the edges of 4-cliques become ``'inter'`` edges.
- ``--images DIR``: every image under DIR is cut into a grid of ``--patch-size`` patches
  (step ``--stride``, default the patch size), single-view nodes that take part in the
  inter-edge mining; those without an edge are dropped (they give no positive) unless
  ``--keep-isolated`` (negatives only). ``--images`` needs ``--clusters``.

A positive is an intra edge (A, A'), an inter edge (A, B) or a transitive pair (A, B'),
B' a later patch of B's track: another instance in another viewpoint. The count of each
is printed and stored in ``--out`` (the graph JSON, see
``mmssl.mining.graph.PatchGraph``); every node's crop is written as a JPEG
in ``--crop-dir`` (default: ``patches/`` beside ``--out``), which
``TransitiveTripletDataset`` loads with ``LoadImageFromFile``.

``--score-labelme LABEL ...``: for ``--frames`` folders annotated with labelme (a
``<frame>.json`` of polygons beside each frame image), print how many tracked patches
(their tracked point) and whole tracks (head and last patch) lie on a polygon of each
LABEL.
"""
import argparse
import json
import os.path as osp
import sys
from typing import Callable, Optional

import cv2
import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmssl.datasets.image_folder import IMG_EXTENSIONS, find_files  # noqa: E402
from mmssl.mining.graph import PAIR_KINDS, PatchGraph  # noqa: E402
from mmssl.mining.inter_edges import inter_instance_edges  # noqa: E402
from mmssl.mining.patches import image_patches, raw_pixel_features  # noqa: E402
from mmssl.mining.tracking import mine_video, track_heads  # noqa: E402
from mmssl.mining.video import VIDEO_EXTENSIONS, frame_files, frame_scale  # noqa: E402
from mmssl.utils.progress import progress_bar  # noqa: E402

FeatureFn = Callable[[list[np.ndarray]], np.ndarray]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Mine a transitive-invariance patch graph')
    parser.add_argument('--videos', help='folder of videos (tracks: intra-instance edges)')
    parser.add_argument('--frames', action='append', default=[],
                        help='a folder of frame images, one video (repeatable)')
    parser.add_argument('--images', help='folder of still images (single-view patches in '
                        'the inter-edge mining)')
    parser.add_argument('--config', help='config whose model.backbone gives the patch '
                        'features (default: raw pixels)')
    parser.add_argument('--checkpoint', help="weights for --config ('none': random)")
    parser.add_argument('--clusters', type=int,
                        help='k-means clusters of the inter-edge mining (none: no inter '
                        'edges)')
    parser.add_argument('--neighbours', type=int, default=10,
                        help='nearest neighbours inside a cluster')
    parser.add_argument('--link-same-video', action='store_true',
                        help='also link tracks of one video by inter edges')
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
    parser.add_argument('--score-labelme', metavar='LABEL', nargs='+', default=[],
                        help='count the tracked patches of --frames on the labelme '
                        'polygons of each LABEL')
    parser.add_argument('--out', required=True, help='the graph JSON to write')
    args = parser.parse_args(argv)
    if not args.videos and not args.frames and not args.images:
        parser.error('give --videos DIR, --frames DIR, --images DIR or several')
    for flag, folders in (('videos', [args.videos]), ('frames', args.frames),
                          ('images', [args.images])):
        for folder in folders:
            if folder and not osp.isdir(folder):
                parser.error(f'--{flag} {folder!r} is not a folder')
    if args.images and not args.clusters:
        parser.error('--images needs --clusters K')
    if args.score_labelme and not args.frames:
        parser.error('--score-labelme needs --frames DIR (labelme-annotated frames)')
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
    return backbone_feature_fn(config, checkpoint, device, batch_size)(crops)


def backbone_feature_fn(config: str, checkpoint: Optional[str], device: Optional[str] = None,
                        batch_size: int = 64) -> FeatureFn:
    """A function of BGR crops -> (N, C) pooled last-stage features by ``config``'s
    backbone (built once); the crops go through the config's test pipeline, as any image
    a :class:`~mmssl.apis.FeatureModel` is called on."""
    from mmssl.apis import build_feature_model
    model = build_feature_model(config, checkpoint, device=device)

    def features(crops: list[np.ndarray]) -> np.ndarray:
        return model(crops, batch_size=batch_size).numpy()
    return features


def mine(args: argparse.Namespace) -> PatchGraph:
    """The graph of ``args``, crops written (see the module docstring)."""
    graph = PatchGraph()
    crop_dir = args.crop_dir or osp.join(osp.dirname(osp.abspath(args.out)), 'patches')
    videos = list(args.frames)
    if args.videos:
        found = find_files(args.videos, VIDEO_EXTENSIONS)
        if not found:
            raise FileNotFoundError(f'--videos {args.videos!r}: no video with extensions '
                                    f'{VIDEO_EXTENSIONS}')
        videos += found
    features: Optional[FeatureFn] = None
    if args.clusters:
        features = (backbone_feature_fn(args.config, args.checkpoint, args.device)
                    if args.config else raw_pixel_features)
    heads, head_feats, groups = [], [], []  # the inter-edge candidates among the nodes
    bar = progress_bar(videos, 'videos', unit='video')
    for num, video in enumerate(bar):
        records, crops, edges = mine_video(
            video, patch_size=args.patch_size, every=args.every,
            min_motion=args.min_motion, max_frames=args.max_frames,
            max_side=args.max_side, max_corners=args.max_corners,
            min_distance=args.patch_size / 4)
        first = graph.add(records, edges, 'intra')
        graph.write_crops(crops, crop_dir, args.out, first=first)
        own = track_heads(records)
        if features is not None and own:
            heads += [first + i for i in own]
            head_feats.append(features([crops[i] for i in own]))
            groups += [num] * len(own)
        bar.write(f'{video}: {len(own)} tracks, {len(records)} patches, '
                  f'{len(edges)} intra edges', file=sys.stdout)
    if args.clusters:
        link_instances(graph, args, heads, head_feats, groups, features, crop_dir)
    elif videos:
        print('no --clusters: no inter-instance edges, hence no transitive pairs')
    return graph


def link_instances(graph: PatchGraph, args: argparse.Namespace, heads: list[int],
                   head_feats: list[np.ndarray], groups: list[int], features: FeatureFn,
                   crop_dir: str) -> None:
    """Mine the inter edges among the track ``heads`` (graph nodes, with features and
    video ``groups``) and the ``--images`` grid patches (added as nodes if linked)."""
    records, crops = [], []
    if args.images:
        images = find_files(args.images, IMG_EXTENSIONS)
        if not images:
            raise FileNotFoundError(f'--images {args.images!r}: no image with extensions '
                                    f'{IMG_EXTENSIONS}')
        records, crops = image_patches(images, args.patch_size, args.stride)
        head_feats = head_feats + [features(crops)]
        print(f'{args.images}: {len(images)} images, {len(records)} patches')
    total = len(heads) + len(records)
    if total < args.clusters:
        raise ValueError(f'--clusters {args.clusters} exceeds the {total} patches of the '
                         f'inter-edge mining ({len(heads)} track heads, {len(records)} '
                         f'image patches)')
    # one group per video; each image patch its own (same-image patches may link)
    group = np.concatenate([groups, len(groups) + np.arange(len(records))]).astype(np.int64)
    if args.link_same_video:
        group = None
    edges = inter_instance_edges(np.concatenate(head_feats), args.clusters,
                                 args.neighbours, args.seed, group)
    kept = list(range(len(records))) if args.keep_isolated else sorted(
        {i - len(heads) for edge in edges for i in edge if i >= len(heads)})
    first = graph.add([records[i] for i in kept], [], 'inter')
    node = heads + [first + num for num in range(len(kept))]
    index = {len(heads) + old: len(heads) + new for new, old in enumerate(kept)}
    graph.link([(node[index.get(i, i)], node[index.get(j, j)]) for i, j in edges], 'inter')
    graph.write_crops([crops[i] for i in kept], crop_dir, args.out, first=first)
    print(f'{len(edges)} inter edges among {len(heads)} track heads and {len(kept)} '
          f'linked image patches')


def labelme_mask(json_path: str, label: str, scale: float = 1.0) -> np.ndarray:
    """(H, W) bool union of the polygons of ``label`` in a labelme JSON file, rasterised
    at ``scale`` times its image size."""
    with open(json_path) as f:
        ann = json.load(f)
    height, width = (int(round(ann[key] * scale)) for key in ('imageHeight', 'imageWidth'))
    mask = np.zeros((height, width), np.uint8)
    for shape in ann.get('shapes', []):
        if shape.get('label') == label and shape.get('shape_type', 'polygon') == 'polygon':
            points = np.round(np.asarray(shape['points'], np.float64) * scale)
            cv2.fillPoly(mask, [points.astype(np.int32)], 1)
    return mask.astype(bool)


def score_labelme(graph: PatchGraph, label: str, max_side: Optional[int] = None
                  ) -> dict[str, int]:
    """How many frame-folder patches (their tracked ``point``) lie on ``label``'s labelme
    polygons in their frame: ``patches`` and ``on_label``; and how many tracks
    (``tracks``) have both their head and last patch on it (``tracks_on_label``)."""
    frames: dict[str, list[str]] = {}
    masks: dict[tuple[str, int], np.ndarray] = {}
    ends: dict[tuple[str, int], list[bool]] = {}
    counts = dict(patches=0, on_label=0)
    for node in graph.nodes:
        source = node.get('source', '')
        if node.get('frame', -1) < 0 or not osp.isdir(source):
            continue
        files = frames.setdefault(source, frame_files(source))
        key = (source, node['frame'])
        if key not in masks:
            json_path = osp.splitext(files[node['frame']])[0] + '.json'
            height, width = cv2.imread(files[node['frame']], cv2.IMREAD_COLOR).shape[:2]
            masks[key] = labelme_mask(json_path, label, frame_scale(height, width, max_side))
        x, y = (int(v) for v in np.clip(np.floor(node['point']), 0,
                                        np.array(masks[key].shape[::-1]) - 1))
        hit = bool(masks[key][y, x])
        counts['patches'] += 1
        counts['on_label'] += hit
        ends.setdefault((source, node['track']), []).append(hit)
    counts['tracks'] = len(ends)
    counts['tracks_on_label'] = sum(hits[0] and hits[-1] for hits in ends.values())
    return counts


def main(argv=None) -> dict[str, int]:
    """Mine, save and print the graph of ``argv``; returns its pair counts."""
    args = parse_args(argv)
    graph = mine(args)
    graph.save(args.out)
    counts = graph.pair_counts()
    print(f'wrote {args.out}: {len(graph.nodes)} nodes; positive pairs: '
          + ', '.join(f'{counts[kind]} {kind}' for kind in PAIR_KINDS))
    for label in args.score_labelme:
        score = score_labelme(graph, label, args.max_side)
        print(f"{score['on_label']} of the {score['patches']} tracked patches lie on "
              f"'{label}' ({score['tracks_on_label']} of the {score['tracks']} tracks at "
              f"both ends)")
    return counts


if __name__ == '__main__':
    main()
