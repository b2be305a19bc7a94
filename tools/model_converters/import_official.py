"""Convert an official MoCo / MoCo v3 / DINO / MAE release to mmssl's backbone layout.

    python tools/model_converters/import_official.py IN OUT [--layout auto] [--key KEY]

Layouts: moco (facebookresearch/moco), mocov3 (moco-v3), dino, mae, torchvision (a plain
ResNet), timm_vit (a plain timm ViT); ``auto`` tells them apart by their keys. OUT holds
``{'state_dict': {'backbone.<mmpretrain name>': tensor}, 'meta': {...}}``, which
``init_cfg=dict(type='Pretrained', checkpoint=OUT, prefix='backbone.')`` loads into
mmpretrain's ResNet/VisionTransformer or mmdet's ResNet. IN is read with
``torch.load(weights_only=True)``.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmssl.utils.checkpoint_export import import_checkpoint_file  # noqa: E402
from mmssl.utils.checkpoint_layouts import LAYOUTS  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', metavar='IN', help='the released checkpoint')
    parser.add_argument('dst', metavar='OUT', help='the backbone file to write')
    parser.add_argument('--layout', default='auto', choices=('auto', ) + LAYOUTS,
                        help='the release format (default: detected from the keys)')
    parser.add_argument('--key', help="the checkpoint entry that holds the state dict "
                                      "(default: the file itself, or the first of 'state_dict', "
                                      "'model', 'teacher', 'student')")
    args = parser.parse_args(argv)
    try:
        report = import_checkpoint_file(args.src, args.dst, args.layout, args.key)
    except (OSError, ValueError) as error:
        raise SystemExit(f'error: {error}')
    print(f'layout {report.layout}: wrote {len(report.written)} tensors (backbone.*) to '
          f'{args.dst}')
    if report.dropped:
        print(f'dropped {len(report.dropped)}: ' + ', '.join(report.dropped_summary()))


if __name__ == '__main__':
    main()
