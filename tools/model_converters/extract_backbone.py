"""Keep the backbone of an mmssl checkpoint, for mmpretrain and mmdet to load.

    python tools/model_converters/extract_backbone.py IN OUT [--prefix backbone.]

OUT holds ``{'state_dict': {'backbone.<name>': tensor}, 'meta': {...}}``: load it with
``init_cfg=dict(type='Pretrained', checkpoint=OUT, prefix='backbone.')`` on an mmpretrain
or mmdet backbone, or ``load_from``/``load_checkpoint`` into a classifier or detector.
``--prefix momentum_backbone.`` keeps the momentum/target network instead (DINO's teacher).
IN is read with ``torch.load(weights_only=True)``.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmssl.utils.checkpoint_export import extract_backbone_file  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', metavar='IN', help='an mmssl checkpoint (e.g. epoch_200.pth)')
    parser.add_argument('dst', metavar='OUT', help='the backbone file to write')
    parser.add_argument('--prefix', default='backbone.',
                        help="keys to keep, renamed to backbone.* (default: backbone., the "
                             "online backbone; momentum_backbone.: the target/teacher)")
    args = parser.parse_args(argv)
    try:
        report = extract_backbone_file(args.src, args.dst, args.prefix)
    except (OSError, ValueError) as error:
        raise SystemExit(f'error: {error}')
    print(f'wrote {len(report.written)} tensors (backbone.*, from {args.prefix}*) to {args.dst}')
    if report.dropped:
        print(f'dropped {len(report.dropped)}: ' + ', '.join(report.dropped_summary()))


if __name__ == '__main__':
    main()
