"""Mine the foreground masks of moving objects from videos (motion segmentation targets).

    python tools/dataset_converters/mine_motion_masks.py --videos DIR --out DIR
        [--every 5] [--step 1] [--max-side PX] [--max-frames T] [--min-fraction 0.01]
        [--max-fraction 0.5] [--min-flow 1.0] [--rel-threshold 3.0] [--open-size 3]
        [--gt-masks DIR]

Every video under ``--videos`` (``.avi .mp4 .mov .mkv .webm .mpg``, recursive, sorted) is
decoded with OpenCV; every ``--every`` frames, the moving pixels between frame t and
t + ``--step`` (Farneback flow minus its median, see ``mmssl.mining.motion_masks``)
give a mask, kept if its foreground fraction is in [``--min-fraction``,
``--max-fraction``]. Writes ``OUT/frames/<video stem>/<t:06d>.jpg``,
``OUT/masks/<video stem>/<t:06d>.png`` (0/255) and ``OUT/motion_masks.json``: the
arguments and one record per kept frame (``video``, ``frame``, ``img_path`` relative to
``OUT/frames``, ``mask_path`` relative to ``OUT/masks``, ``fraction``). The datasets
scan ``OUT/frames``, so the tool refuses an ``OUT`` whose ``frames/`` or ``masks/`` are not
empty (frames of an earlier run would mix in). With ``--gt-masks`` (true masks laid out
like ``OUT/masks``, e.g. ``make_moving_object_videos.py``'s ``gt_masks``) it prints the
mined masks' mean IoU, precision and recall against them.
"""
import argparse
import json
import os
import os.path as osp
import sys
from pathlib import Path

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmssl.datasets.image_folder import find_files  # noqa: E402
from mmssl.mining.motion_masks import mine_frame_masks, score_masks  # noqa: E402
from mmssl.mining.video import VIDEO_EXTENSIONS, read_video  # noqa: E402
from mmssl.utils.atomic_io import atomic_write_text  # noqa: E402
from mmssl.utils.progress import progress_bar  # noqa: E402

INDEX_FILE = 'motion_masks.json'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Mine motion segmentation masks from videos')
    parser.add_argument('--videos', required=True, help='folder of videos (recursive)')
    parser.add_argument('--out', required=True, help='output folder (frames/, masks/, '
                        f'{INDEX_FILE})')
    parser.add_argument('--every', type=int, default=5, help='a mask every K frames')
    parser.add_argument('--step', type=int, default=1,
                        help='the flow of frame t is towards frame t + STEP')
    parser.add_argument('--max-side', type=int, help='downscale frames to this longer side')
    parser.add_argument('--max-frames', type=int, help='frames read per video (default: all)')
    parser.add_argument('--min-fraction', type=float, default=0.01,
                        help='drop frames with a smaller foreground fraction')
    parser.add_argument('--max-fraction', type=float, default=0.5,
                        help='drop frames with a larger foreground fraction')
    parser.add_argument('--min-flow', type=float, default=1.0,
                        help='foreground moves by more than this many pixels...')
    parser.add_argument('--rel-threshold', type=float, default=3.0,
                        help='... and more than this times the median (compensated) motion')
    parser.add_argument('--open-size', type=int, default=3,
                        help='kernel of the mask opening/closing (0: none)')
    parser.add_argument('--gt-masks', help='true masks (<video stem>/<t:06d>.png) to score '
                        'the mined ones against')
    args = parser.parse_args(argv)
    if not osp.isdir(args.videos):
        parser.error(f'--videos {args.videos!r} is not a folder')
    for flag in ('every', 'step', 'max_side', 'max_frames'):
        value = getattr(args, flag)
        if value is not None and value < 1:
            parser.error(f"--{flag.replace('_', '-')} must be >= 1, got {value}")
    for flag in ('min_flow', 'rel_threshold', 'open_size'):
        if getattr(args, flag) < 0:
            parser.error(f"--{flag.replace('_', '-')} must be >= 0, got {getattr(args, flag)}")
    if not 0 <= args.min_fraction <= args.max_fraction <= 1:
        parser.error(f'need 0 <= --min-fraction <= --max-fraction <= 1, got '
                     f'{args.min_fraction} and {args.max_fraction}')
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    videos = find_files(args.videos, VIDEO_EXTENSIONS)
    if not videos:
        raise SystemExit(f'error: --videos {args.videos!r} holds no video with extensions '
                         f'{VIDEO_EXTENSIONS}')
    by_stem = {}
    for video in videos:  # the stem names the output subfolder: it must be unique
        stem = Path(video).stem
        if stem in by_stem:
            raise SystemExit(f'error: {by_stem[stem]} and {video} would write to the same '
                             f'folder {stem!r}: rename one')
        by_stem[stem] = video
    for sub in ('frames', 'masks'):  # a dataset scans these: no frame of an earlier run
        folder = osp.join(args.out, sub)
        if osp.isdir(folder) and os.listdir(folder):
            raise SystemExit(f'error: {folder} is not empty (an earlier run?): remove it or '
                             f'choose another --out')
    records, dropped = [], 0
    bar = progress_bar(videos, 'videos', unit='video')
    for video in bar:
        try:
            frames = read_video(video, max_frames=args.max_frames, max_side=args.max_side)
        except (OSError, ValueError) as err:
            raise SystemExit(f'error: {err}') from err
        kept, num_dropped = mine_frame_masks(
            frames, args.out, Path(video).stem, every=args.every, step=args.step,
            min_fraction=args.min_fraction, max_fraction=args.max_fraction, video=video,
            min_flow=args.min_flow, rel_threshold=args.rel_threshold,
            open_size=args.open_size)
        bar.write(f'{video}: {len(frames)} frames, {len(kept)} masks kept, {num_dropped} '
                  f'dropped', file=sys.stdout)
        records += kept
        dropped += num_dropped
    os.makedirs(args.out, exist_ok=True)
    index = osp.join(args.out, INDEX_FILE)
    atomic_write_text(index, json.dumps(dict(args=vars(args), dropped=dropped,
                                             records=records), indent=1))
    print(f'wrote {index}: {len(videos)} videos, {len(records)} frames kept, '
          f'{dropped} frames dropped')
    if args.gt_masks:
        score = score_masks(records, osp.join(args.out, 'masks'), args.gt_masks)
        print(f"against {args.gt_masks}: mean IoU {score['iou']:.3f}, precision "
              f"{score['precision']:.3f}, recall {score['recall']:.3f} over "
              f"{score['frames']} frames")


if __name__ == '__main__':
    main()
