"""Score a motion segmentation checkpoint on frames with true masks: IoU of "moving".

    python tools/analysis/eval_motion_segmentation.py CONFIG CHECKPOINT --frames DIR
        --masks DIR [--scale 64] [--batch-size 32] [--seed 0]
        [--cfg-options key=value ...]

CONFIG: a ``MotionSegmentation`` config; CHECKPOINT its checkpoint, or ``none`` (the
initialised weights, drawn with ``--seed``: a baseline). Every image under ``--frames`` is
paired with the mask of the same relative path under ``--masks`` (``.png``; non-zero =
moving; the layout of ``mine_motion_masks.py``'s ``masks`` or
``make_moving_object_videos.py``'s ``gt_masks``), resized whole to ``--scale`` (the
training views' side), normalised by the config's data preprocessor, and segmented
(``MotionSegmentation.segment``); the probability of "moving" is upsampled to the mask's
size and thresholded at 0.5. Prints, over all pixels: the IoU, precision and recall of
"moving", the pixel accuracy, and the accuracy of calling every pixel still (the majority
baseline); returns them as a dict.
"""
import argparse
import os.path as osp
import sys

import cv2
import torch
from mmengine.config import Config, DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', help="a checkpoint, or 'none' for the initial weights")
    parser.add_argument('--frames', required=True, help='folder of frames (recursive)')
    parser.add_argument('--masks', required=True, help='folder of their true masks')
    parser.add_argument('--scale', type=int, default=64, help='the network input side')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--seed', type=int, default=0, help='seed of the initial weights')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return parser.parse_args(argv)


def build_model(cfg: Config, checkpoint: str) -> torch.nn.Module:
    from mmengine.registry import init_default_scope

    from mmssl.registry import MODELS
    from mmssl.utils.checkpoint_loading import load_state_dict_file
    init_default_scope(cfg.get('default_scope', 'mmssl'))
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    model = MODELS.build(model_cfg)
    if not hasattr(model, 'segment'):
        raise SystemExit(f'{cfg.filename}: model {type(model).__name__} cannot segment '
                         f'(a MotionSegmentation config is needed)')
    model.init_weights()
    if checkpoint != 'none':
        model.load_state_dict(load_state_dict_file(checkpoint))
    return model.eval()


def main(argv=None) -> dict:
    args = parse_args(argv)
    from mmssl.datasets import ImageFolder
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    torch.manual_seed(args.seed)
    model = build_model(cfg, args.checkpoint)
    samples = ImageFolder(data_root=args.frames, mask_root=args.masks).load_data_list()
    counts = dict(hits=0, predicted=0, moving=0, correct=0, pixels=0)
    for start in range(0, len(samples), args.batch_size):
        images, masks = [], []
        for sample in samples[start:start + args.batch_size]:
            image = cv2.imread(sample['img_path'], cv2.IMREAD_COLOR)
            mask = cv2.imread(sample['mask_path'], cv2.IMREAD_GRAYSCALE)
            if image is None or mask is None:
                raise SystemExit(f"cannot read {sample['img_path']} or its mask "
                                 f"{sample['mask_path']}")
            images.append(torch.from_numpy(cv2.resize(image, (args.scale,) * 2,
                                                      interpolation=cv2.INTER_AREA)))
            masks.append(torch.from_numpy(mask > 0))
        if len({m.shape for m in masks}) != 1:
            raise SystemExit('the masks of a batch differ in size: use --batch-size 1')
        batch = torch.stack(images).permute(0, 3, 1, 2).contiguous()
        view = model.data_preprocessor(dict(inputs=batch), training=False)['inputs']
        moving = model.segment(view, masks[0].shape)[:, 1] > 0.5
        truth = torch.stack(masks)
        counts['hits'] += int((moving & truth).sum())
        counts['predicted'] += int(moving.sum())
        counts['moving'] += int(truth.sum())
        counts['correct'] += int((moving == truth).sum())
        counts['pixels'] += truth.numel()
    result = dict(
        frames=len(samples),
        iou=100 * counts['hits'] / max(counts['predicted'] + counts['moving'] - counts['hits'],
                                       1),
        precision=100 * counts['hits'] / max(counts['predicted'], 1),
        recall=100 * counts['hits'] / max(counts['moving'], 1),
        pixel_acc=100 * counts['correct'] / max(counts['pixels'], 1),
        all_still_acc=100 * (1 - counts['moving'] / max(counts['pixels'], 1)))
    print(f"{args.checkpoint} on {result['frames']} frames: IoU(moving) {result['iou']:.2f}, "
          f"precision {result['precision']:.2f}, recall {result['recall']:.2f}, "
          f"pixel accuracy {result['pixel_acc']:.2f} (all still: "
          f"{result['all_still_acc']:.2f})")
    return result


if __name__ == '__main__':
    main()
