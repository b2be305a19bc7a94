"""Write the model index: configs/<algorithm>/metafile.yml, one Model per config, and
model-index.yml, which imports the zoo's measured rows and then those metafiles.

    python tools/analysis/write_metafiles.py [--check]

mmengine reads the index (from the installed package's .mim/) to resolve ``mmssl::``
bases, mim to search and train mmssl's configs. Each config is listed with what its name
says (epochs, total batch, data); the measured results are the zoo's rows in
configs/zoo/metafile.yml, which tools/analysis/zoo_report.py writes. ``--check`` writes
nothing and exits 1 naming the files that are out of date.
"""
import argparse
import glob
import os.path as osp
import re
from typing import Optional

import yaml

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ZOO_METAFILE = 'configs/zoo/metafile.yml'
NOT_ALGORITHMS = ('_base_', 'benchmarks', 'zoo')
# {algo}_{backbone}_{gpus}xb{batch}[-amp]-{schedule}-{epochs}e_{data} (STYLE.md, habit 8)
NAME = re.compile(r'^(?P<algo>[a-z0-9]+)_(?P<backbone>[a-z0-9-]+)_(?P<gpus>\d+)xb(?P<batch>\d+)'
                  r'(?P<amp>-amp)?-(?P<schedule>[a-z0-9]+)-(?P<epochs>\d+)e_(?P<data>[a-z0-9-]+)$')
DATA = {'fmnist': 'Fashion-MNIST', 'in1k': 'ImageNet-1k', 'coco': 'COCO train2017',
        'cars': 'Stanford Cars', 'labelme': 'labelme-examples',
        'labelme-videos': 'labelme-examples videos', 'videos': 'Videos',
        'in1k-videos': 'ImageNet-1k and videos',
        'labelme-video-train': 'labelme-examples video frames (training split)'}
HEADER = ('# The configs of this folder, for model-index.yml (mmengine, mim); written by\n'
          '# tools/analysis/write_metafiles.py. Measured results: configs/zoo/metafile.yml.\n')


def config_entry(algorithm: str, path: str) -> dict:
    """The metafile Model of the config at ``path``, from its name.

    Raises:
        ValueError: naming the config if its name does not follow the convention or its
            data is not in :data:`DATA`.
    """
    stem = osp.splitext(osp.basename(path))[0]
    match = NAME.match(stem)
    if match is None:
        raise ValueError(f'{path}: the name does not follow '
                         f'{{algo}}_{{backbone}}_{{gpus}}xb{{batch}}[-amp]-{{schedule}}-'
                         f'{{epochs}}e_{{data}}')
    if match['data'] not in DATA:
        raise ValueError(f'{path}: unknown data {match["data"]!r}; add it to DATA in '
                         f'{osp.relpath(__file__, REPO_ROOT)}')
    return {'Name': stem, 'In Collection': algorithm,
            'Config': f'configs/{algorithm}/{stem}.py',
            'Metadata': {'Training Data': DATA[match['data']], 'Epochs': int(match['epochs']),
                         'Batch Size': int(match['gpus']) * int(match['batch'])}}


def index_files(root: str = REPO_ROOT) -> dict[str, str]:
    """The text of each algorithm's metafile and of model-index.yml, by path under
    ``root``."""
    files, imports = {}, [ZOO_METAFILE]
    for folder in sorted(glob.glob(osp.join(root, 'configs', '*', ''))):
        algorithm = osp.basename(osp.dirname(folder))
        configs = sorted(glob.glob(osp.join(folder, '*.py')))
        if algorithm in NOT_ALGORITHMS or not configs:
            continue
        metafile = f'configs/{algorithm}/metafile.yml'
        models = [config_entry(algorithm, path) for path in configs]
        files[metafile] = HEADER + yaml.safe_dump(
            {'Collections': [{'Name': algorithm}], 'Models': models}, sort_keys=False,
            allow_unicode=True)
        imports.append(metafile)
    files['model-index.yml'] = yaml.safe_dump({'Import': imports}, sort_keys=False)
    return files


def stale_files(files: dict[str, str], root: str = REPO_ROOT) -> list[str]:
    """The paths of ``files`` whose file under ``root`` is missing or differs."""
    def text_of(path: str) -> Optional[str]:
        if not osp.isfile(osp.join(root, path)):
            return None
        with open(osp.join(root, path)) as f:
            return f.read()

    return [path for path, text in files.items() if text_of(path) != text]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--check', action='store_true',
                        help='write nothing; exit 1 if a file is out of date')
    args = parser.parse_args(argv)
    files = index_files()
    stale = stale_files(files)
    if args.check:
        if stale:
            raise SystemExit(f'out of date: {", ".join(stale)}; run '
                             f'python tools/analysis/write_metafiles.py')
        return
    for path in stale:
        with open(osp.join(REPO_ROOT, path), 'w') as f:
            f.write(files[path])
        print(f'wrote {path}')


if __name__ == '__main__':
    main()
