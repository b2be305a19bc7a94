"""Make the annotation file of Debian's ``labelme-examples`` usable by mmdet's COCO tools.

The package (``apt install labelme-examples``; its files stay where apt put them, their
licence differs from mmssl's) ships three VOC photos with a COCO instance file. Two things
in that file get in the way, and this tool writes a fixed copy (nothing else is copied):

- annotation ids start at 0, and pycocotools' ``COCOeval`` takes a matched ground-truth id
  of 0 for "unmatched": perfect detections score AP 0.949 instead of 1.0. Ids are shifted
  to start at 1.
- image paths are relative to the package folder; they are made absolute so a config needs
  no ``data_root`` that depends on where apt installs.

    python tools/dataset_converters/prepare_labelme_examples.py [--out data/labelme_examples]
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmssl.utils import atomic_write_text  # noqa: E402

PACKAGE_DIR = '/usr/share/doc/labelme-examples/examples/instance_segmentation/data_dataset_coco'


def fix_annotations(coco: dict, image_dir: str) -> dict:
    """A copy of a COCO dict with annotation ids from 1 and absolute image paths."""
    fixed = dict(coco)
    first = min((ann['id'] for ann in coco['annotations']), default=1)
    fixed['annotations'] = [dict(ann, id=ann['id'] - first + 1) for ann in coco['annotations']]
    fixed['images'] = [dict(img, file_name=osp.join(image_dir, img['file_name']))
                       for img in coco['images']]
    return fixed


def prepare(src_dir: str = PACKAGE_DIR, out_dir: str = 'data/labelme_examples') -> str:
    """Write ``out_dir/annotations.json`` from the package's; returns its path."""
    src = osp.join(src_dir, 'annotations.json')
    if not osp.isfile(src):
        raise FileNotFoundError(
            f'{src} not found: install the Debian package with '
            f'"sudo apt-get install labelme-examples" (tools/setup_env.sh does)')
    with open(src) as f:
        coco = json.load(f)
    os.makedirs(out_dir, exist_ok=True)
    out = osp.join(out_dir, 'annotations.json')
    atomic_write_text(out, json.dumps(fix_annotations(coco, osp.abspath(src_dir))))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--src', default=PACKAGE_DIR, help='the package\'s COCO folder')
    parser.add_argument('--out', default='data/labelme_examples', help='output folder')
    args = parser.parse_args(argv)
    out = prepare(args.src, args.out)
    print(f'wrote {out}')


if __name__ == '__main__':
    main()
