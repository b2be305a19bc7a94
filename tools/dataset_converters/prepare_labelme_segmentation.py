"""Rasterise the labelme polygons of Debian's ``labelme-examples`` into mmseg label maps.

Two examples of the package (``apt install labelme-examples``) are semantic segmentation
sets: ``semantic_segmentation`` (3 VOC photos, 20 VOC classes) and ``video_annotation``
(5 consecutive frames 00000100-00000104 of a race, classes car and track). Each image has a
labelme JSON beside it in ``data_annotated/``, and the example's ``labels.txt`` lists the
classes: ``__ignore__``, ``_background_``, then the classes in label order. For each
example this writes, under ``OUT/<example>/`` (the photos are not copied: a config reads
them where apt put them, their licence differs from mmssl's):

- ``ann/<stem>.png``: a uint8 map of class indices, ``_background_`` 0, the classes 1, 2, ...
  in ``labels.txt`` order, ``__ignore__`` 255 (mmseg's ignore index). The shapes are
  drawn in file order, a later one over an earlier one, as labelme's own ``labelme2voc.py``
  does (its output, ``data_dataset_voc/SegmentationClassPNG``, is in the package);
- ``classes.txt``: the class names, one a line, index order;
- ``train.txt`` (and ``val.txt``): the stems of each split, mmseg's split-file format.
  The video's first three frames train, its last two are held out; the three photos all
  train.

    python tools/dataset_converters/prepare_labelme_segmentation.py
        [--out data/labelme_segmentation] [--examples video_annotation semantic_segmentation]
"""
import argparse
import glob
import json
import math
import os
import os.path as osp
import sys
from typing import Optional

import cv2
import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmssl.utils import atomic_write_text, publish_file  # noqa: E402

PACKAGE_DIR = '/usr/share/doc/labelme-examples/examples'
IGNORE_INDEX = 255  # mmseg's default ignore_index
# example -> split -> stems; None: every annotated image of the example.
SPLITS = {
    'video_annotation': dict(train=['00000100', '00000101', '00000102'],
                             val=['00000103', '00000104']),
    'semantic_segmentation': dict(train=None),
}


def read_labels(path: str) -> dict[str, int]:
    """Class name -> value in the label map, from a labelme ``labels.txt``.

    Raises:
        ValueError: naming the file, when its first two lines are not ``__ignore__`` and
            ``_background_`` (the convention of labelme's ``labelme2voc.py``).
    """
    with open(path) as f:
        names = [line.strip() for line in f if line.strip()]
    if names[:2] != ['__ignore__', '_background_']:
        raise ValueError(f'{path}: the first two labels must be __ignore__ and _background_, '
                         f'got {names[:2]}')
    values = {name: i for i, name in enumerate(names[1:])}
    values['__ignore__'] = IGNORE_INDEX
    return values


def shape_mask(shape: dict, height: int, width: int, json_path: str) -> np.ndarray:
    """The (height, width) bool mask of one labelme shape, drawn as labelme draws it
    (PIL, outline included): ``polygon``, ``rectangle`` or ``circle``.

    Raises:
        ValueError: naming the JSON file and the shape type, for any other type (lines and
            points have no area) or a polygon of fewer than 3 points.
    """
    shape_type = shape.get('shape_type') or 'polygon'
    xy = [tuple(point) for point in shape['points']]
    mask = Image.new('L', (width, height), 0)
    draw = ImageDraw.Draw(mask)
    if shape_type == 'polygon':
        if len(xy) < 3:
            raise ValueError(f'{json_path}: a polygon of {len(xy)} points '
                             f'(label {shape["label"]!r}); a polygon needs 3 or more')
        draw.polygon(xy, outline=1, fill=1)
    elif shape_type == 'rectangle':
        (x0, y0), (x1, y1) = xy
        draw.rectangle([min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)],
                       outline=1, fill=1)
    elif shape_type == 'circle':
        (cx, cy), (px, py) = xy
        r = math.hypot(cx - px, cy - py)
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=1, fill=1)
    else:
        raise ValueError(f'{json_path}: unsupported shape type {shape_type!r} (label '
                         f'{shape["label"]!r}); polygon, rectangle and circle are drawn')
    return np.asarray(mask, dtype=bool)


def rasterise(annotation: dict, labels: dict[str, int], json_path: str) -> np.ndarray:
    """The uint8 label map of a labelme annotation: 0 where no shape is, each shape's class
    value over it, in file order (later shapes over earlier ones).

    Raises:
        ValueError: naming the JSON file and the label, for a label not in ``labels``; or
            as :func:`shape_mask`.
    """
    height, width = annotation['imageHeight'], annotation['imageWidth']
    label_map = np.zeros((height, width), np.uint8)
    for shape in annotation['shapes']:
        if shape['label'] not in labels:
            raise ValueError(f'{json_path}: label {shape["label"]!r} is not in labels.txt '
                             f'({", ".join(labels)})')
        label_map[shape_mask(shape, height, width, json_path)] = labels[shape['label']]
    return label_map


def write_png(path: str, label_map: np.ndarray) -> None:
    """Write a single-channel uint8 PNG atomically."""
    ok, data = cv2.imencode('.png', label_map)
    if not ok:
        raise OSError(f'could not encode {path}')
    tmp_path = osp.join(osp.dirname(path), f'.{osp.basename(path)}.tmp')
    with open(tmp_path, 'wb') as f:
        f.write(data.tobytes())
    publish_file(tmp_path, path)


def convert_example(example_dir: str, out_dir: str,
                    splits: Optional[dict] = None) -> dict[str, list[str]]:
    """Write ``ann/*.png``, ``classes.txt`` and the split files of one labelme example
    folder (``labels.txt`` and ``data_annotated/*.json``) to ``out_dir``.

    ``splits``: split name -> stems (``None``: every annotated image); default: everything
    in ``train``. Returns the splits written.

    Raises:
        FileNotFoundError: no ``labels.txt``, no JSON, or a split stem without its JSON.
        ValueError: as :func:`rasterise`.
    """
    labels_file = osp.join(example_dir, 'labels.txt')
    if not osp.isfile(labels_file):
        raise FileNotFoundError(
            f'{labels_file} not found: install the Debian package with '
            f'"sudo apt-get install labelme-examples" (tools/setup_env.sh does)')
    labels = read_labels(labels_file)
    json_files = sorted(glob.glob(osp.join(example_dir, 'data_annotated', '*.json')))
    if not json_files:
        raise FileNotFoundError(f'no labelme JSON in {osp.join(example_dir, "data_annotated")}')
    stems = [osp.splitext(osp.basename(path))[0] for path in json_files]
    splits = {name: list(stems) if chosen is None else list(chosen)
              for name, chosen in (splits or dict(train=None)).items()}
    for name, chosen in splits.items():
        unknown = sorted(set(chosen) - set(stems))
        if unknown:
            raise FileNotFoundError(f'split {name}: no labelme JSON for {unknown} in '
                                    f'{osp.join(example_dir, "data_annotated")}')

    os.makedirs(osp.join(out_dir, 'ann'), exist_ok=True)
    for path, stem in zip(json_files, stems):
        with open(path) as f:
            annotation = json.load(f)
        write_png(osp.join(out_dir, 'ann', f'{stem}.png'), rasterise(annotation, labels, path))
    classes = [name for name, value in sorted(labels.items(), key=lambda item: item[1])
               if value != IGNORE_INDEX]
    atomic_write_text(osp.join(out_dir, 'classes.txt'), '\n'.join(classes) + '\n')
    for name, chosen in splits.items():
        atomic_write_text(osp.join(out_dir, f'{name}.txt'), '\n'.join(chosen) + '\n')
    return splits


def prepare(src_dir: str = PACKAGE_DIR, out_dir: str = 'data/labelme_segmentation',
            examples: Optional[list[str]] = None) -> list[str]:
    """Convert ``examples`` (default: both) of the package; returns their output folders."""
    written = []
    for example in examples or list(SPLITS):
        out = osp.join(out_dir, example)
        convert_example(osp.join(src_dir, example), out, SPLITS.get(example))
        written.append(out)
    return written


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--src', default=PACKAGE_DIR,
                        help='the package\'s examples folder')
    parser.add_argument('--out', default='data/labelme_segmentation', help='output folder')
    parser.add_argument('--examples', nargs='+', choices=sorted(SPLITS),
                        help='which examples (default: all)')
    args = parser.parse_args(argv)
    for out in prepare(args.src, args.out, args.examples):
        print(f'wrote {out}')


if __name__ == '__main__':
    main()
