"""A pretrained backbone in one call, from a config or a model-zoo name (docs/python_api.md).

The zoo is OpenMMLab's model index: ``model-index.yml`` (at the repository root, or
``mmssl/.mim/`` in an installed package) imports metafiles whose ``Models`` rows give a
``Name`` and a ``Config``: the measured zoo (``configs/zoo/metafile.yml``) and each
config folder's. ``tools/analysis/train_zoo.py`` trains zoo row NAME with seed S into
``work_dirs/zoo/NAME/seedS``; the checkpoint is the file that mmengine's
``last_checkpoint`` there names. Nothing is downloaded.
"""
import os.path as osp
from typing import Optional, Sequence, Union

import torch
import yaml

from .features import FeatureModel, StageSpec, build_feature_model

PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))
# a checkout's, else the one an installed package carries (mmssl/.mim/, as OpenMMLab's)
CHECKOUT_INDEX = osp.join(osp.dirname(PACKAGE_DIR), 'model-index.yml')
MODEL_INDEX = (CHECKOUT_INDEX if osp.isfile(CHECKOUT_INDEX)
               else osp.join(PACKAGE_DIR, '.mim', 'model-index.yml'))
ZOO_DIR = 'work_dirs/zoo'  # as tools/analysis/train_zoo.py's --zoo-dir, from the cwd


def zoo_models(index: str = MODEL_INDEX) -> dict[str, dict]:
    """The rows of the model index's metafiles by name (``Config`` made absolute).

    Raises:
        FileNotFoundError: naming the index or a metafile it imports, if missing.
        ValueError: naming a model name that two metafiles use.
    """
    if not osp.isfile(index):
        raise FileNotFoundError(f'model index not found: {index} (the zoo needs a checkout '
                                f'of the repository)')
    with open(index) as f:
        imports = (yaml.safe_load(f) or {}).get('Import', [])
    models = {}
    for metafile in imports:
        path = osp.join(osp.dirname(index), metafile)
        if not osp.isfile(path):
            raise FileNotFoundError(f'{index} imports {metafile}, which does not exist')
        with open(path) as f:
            for row in (yaml.safe_load(f) or {}).get('Models', []):
                if row['Name'] in models:
                    raise ValueError(f"model {row['Name']!r} is in {metafile} and in "
                                     f"{models[row['Name']]['metafile']}")
                config = osp.join(osp.dirname(index), row['Config'])
                models[row['Name']] = dict(row, Config=config, metafile=metafile)
    return models


def zoo_checkpoint(name: str, seed: int = 0, zoo_dir: str = ZOO_DIR) -> str:
    """The latest checkpoint of model ``name`` trained with ``seed`` into
    ``zoo_dir/name/seed{seed}`` (the file its ``last_checkpoint`` names; the file of that
    name in the folder if the folder was moved).

    Raises:
        FileNotFoundError: naming the run folder and the commands that train it.
    """
    run_dir = osp.join(zoo_dir, name, f'seed{seed}')
    pointer = osp.join(run_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        raise FileNotFoundError(
            f'model {name!r} seed {seed} is not trained: no {pointer}; train it with '
            f'`python tools/analysis/train_zoo.py --rows {name} --seeds {seed}` (a row of '
            f'configs/zoo/fashion_mnist.py) or `python tools/train.py CONFIG --work-dir '
            f'{run_dir}`, or give a checkpoint file')
    with open(pointer) as f:
        path = f.read().strip()
    for candidate in (path, osp.join(run_dir, osp.basename(path))):
        if osp.isfile(candidate):
            return candidate
    raise FileNotFoundError(f'{pointer} names {path}, which does not exist')


def get_model(model: str,
              checkpoint: Optional[str] = None,
              stages: Optional[Sequence[StageSpec]] = None,
              device: Union[str, torch.device, None] = None,
              seed: int = 0,
              zoo_dir: str = ZOO_DIR) -> FeatureModel:
    """A backbone ready to extract features, as mmpretrain's ``get_model``.

    Args:
        model: a config file, or the name of a zoo model (:func:`zoo_models`).
        checkpoint: an mmssl or backbone-only checkpoint (``'none'``: random weights).
            Default: for a zoo name, its run's checkpoint (:func:`zoo_checkpoint`; a row
            with ``Pretrained: false`` is the backbone's random initialisation drawn with
            ``seed``, as the zoo evaluated it); for a config, random weights.
        stages, device: as :func:`build_feature_model`.
        seed, zoo_dir: which run, and where the zoo was trained.

    Returns:
        a :class:`FeatureModel` in eval mode: ``model(images)`` gives (N, C) features,
        :func:`extract_features` those of a dataset or folder.

    Raises:
        ValueError: naming ``model`` and the zoo's names if it is neither.
        FileNotFoundError: naming a missing checkpoint or zoo run.
    """
    if osp.isfile(model):
        return build_feature_model(model, checkpoint, stages, device)
    models = zoo_models()
    if model not in models:
        raise ValueError(f'{model!r} is neither a config file nor a zoo model; the zoo '
                         f'({MODEL_INDEX}) has {sorted(models)}')
    row = models[model]
    pretrained = row.get('Metadata', {}).get('Pretrained', True)
    if checkpoint is None and pretrained:
        checkpoint = zoo_checkpoint(model, seed, zoo_dir)
    with torch.random.fork_rng(devices=[]):  # random weights as the zoo drew them
        torch.manual_seed(seed)
        return build_feature_model(row['Config'], checkpoint, stages, device)
