"""Frozen backbone features of a config + checkpoint, per stage, as numpy arrays.

What the SVM benchmark (``tools/benchmark/svm_voc07.py``) and the analysis tools
(``tools/analysis/extract_features.py``, ``visualize_tsne.py``) share:

- :func:`build_feature_model`: the config's ``model.backbone`` (with the requested stages
  as ``out_indices``) and its data preprocessor, weights from a checkpoint;
- :func:`build_feature_dataloader`: one of the config's ``*_dataloader`` in a fixed order,
  optionally limited to the first images;
- :func:`extract_features`: one pass in eval mode without gradients, each stage's map
  pooled (:func:`pool_stage`), over a dataloader, a dataset, a folder or images, with a
  progress bar.

A :class:`FeatureModel` is also called on images (``model(images)``: (N, C) features of
its last stage), prepared by the config's test pipeline (:func:`feature_pipeline`).

Stages are named as in MMSelfSup's VOC07 benchmark for ResNets: ``res2``...``res5`` are
the outputs of the four residual stages (``out_indices`` 0-3); ``stageN`` (or the int N)
is ``out_indices`` N of any backbone.
"""
import copy
import logging
import math
import os.path as osp
import re
from typing import Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.logging import MMLogger
from mmengine.runner import CheckpointLoader, Runner
from torch import nn
from torch.utils.data import DataLoader, Dataset

from mmssl.registry import MODELS
from mmssl.utils import register_all_modules
from mmssl.utils.progress import progress_bar
from .images import ImageList, Images, collate_images

StageSpec = Union[str, int]
POOLS = ('avg', 'adaptive')
# MMSelfSup / Goyal et al. (2019): each ResNet-50 stage pooled to about 9k dims.
VOC07_POOL_DIM = 9216


def parse_stage(stage: StageSpec) -> tuple[str, int]:
    """``'res4'`` -> ``('res4', 2)``, ``'stage1'`` or ``1`` -> ``('stage1', 1)``.

    Raises:
        ValueError: naming the stage if it is none of those forms.
    """
    if isinstance(stage, int):
        return f'stage{stage}', stage
    match = re.fullmatch(r'res([2-9])|stage(\d+)|(\d+)', str(stage))
    if match is None:
        raise ValueError(f"unknown stage {stage!r}: use 'res2'...'res5' (ResNet stages, "
                         f"out_indices 0-3) or 'stageN' / N (the backbone's out_indices N)")
    if match[1]:
        return f'res{match[1]}', int(match[1]) - 2
    index = int(match[2] or match[3])
    return f'stage{index}', index


class FeatureModel(nn.Module):
    """A backbone, the data preprocessor that prepares its inputs and the test pipeline
    that prepares images for it. Called on images, it returns their features.

    Args:
        backbone: returns a tuple of maps, one per entry of its ``out_indices``.
        data_preprocessor: called as ``data_preprocessor(batch, training=False)``;
            ``None`` to feed ``batch['inputs']`` as it is (as float).
        stages: the stages this model was built for (names as :func:`parse_stage`).
        pipeline: transform configs that decode (files), resize and pack one image as the
            config's test data (default: only ``PackInputs``).
    """

    def __init__(self, backbone: nn.Module, data_preprocessor: Optional[nn.Module] = None,
                 stages: Sequence[StageSpec] = (),
                 pipeline: Sequence[dict] = (dict(type='PackInputs'), )) -> None:
        super().__init__()
        self.backbone = backbone
        self.data_preprocessor = data_preprocessor
        self.stages = [parse_stage(s)[0] for s in stages]
        self.pipeline = [dict(t) for t in pipeline]

    def forward(self, images: Images, batch_size: int = 64) -> torch.Tensor:
        """(N, C) float32 CPU features of the last stage (average-pooled) of ``images``.

        ``images``: a batch (NCHW or NHWC array or tensor), one HWC image, image files or
        a folder (:func:`~mmssl.apis.images.as_image_list`), pixel values 0-255 in BGR
        order as OpenCV reads them; :attr:`pipeline` prepares each image.
        """
        feats = extract_features(self, images, self.stages[-1:] or None,
                                 batch_size=batch_size, progress=False)
        return torch.from_numpy(list(feats.values())[-1])  # images carry no labels


def _backbone_state(checkpoint: str) -> dict:
    """The backbone's weights in ``checkpoint`` (an mmssl checkpoint: the online backbone
    under ``backbone.``; or a backbone-only file with ``backbone.`` keys), prefix removed.
    """
    ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f'{checkpoint} holds no state dict (got {type(ckpt).__name__})')
    state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
    backbone = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    if not backbone:
        first = ', '.join(list(state)[:5])
        raise ValueError(f"{checkpoint} has no 'backbone.' weights (first keys: {first}); "
                         f"an mmssl checkpoint stores the online backbone under 'backbone.'")
    return backbone


def load_backbone_weights(backbone: nn.Module, checkpoint: str) -> None:
    """Load the ``backbone.`` weights of ``checkpoint`` into ``backbone``, strictly.

    Raises:
        ValueError: naming the file and the keys if they do not fit the backbone.
    """
    state = _backbone_state(checkpoint)
    try:
        result = backbone.load_state_dict(state, strict=False)
    except RuntimeError as err:  # shapes that differ: torch's message names the keys
        raise ValueError(f'the backbone weights of {checkpoint} do not fit the config\'s '
                         f'backbone: {err}') from err
    if result.missing_keys or result.unexpected_keys:
        raise ValueError(
            f'the backbone weights of {checkpoint} do not fit the config\'s backbone: '
            f'missing {result.missing_keys[:5]} ({len(result.missing_keys)} in all), '
            f'unexpected {result.unexpected_keys[:5]} ({len(result.unexpected_keys)} in all)')


def build_feature_model(config: Union[str, Config],
                        checkpoint: Optional[str] = None,
                        stages: Optional[Sequence[StageSpec]] = None,
                        device: Union[str, torch.device, None] = None) -> FeatureModel:
    """The config's ``model.backbone`` with ``checkpoint``'s weights, ready to extract.

    Args:
        config: a config file or Config with ``model.backbone`` and, in ``model`` or at
            the top level, ``data_preprocessor`` (default: ``SelfSupDataPreprocessor``).
            A pretraining config works as well as a benchmark config.
        checkpoint: an mmssl checkpoint (the online backbone under ``backbone.``) or a
            backbone-only file with ``backbone.`` keys; ``None`` or ``'none'`` for the
            backbone's initial (random) weights, from its ``init_weights``.
        stages: e.g. ``['res4', 'res5']``; the backbone's ``out_indices`` are set to
            them (default: the config's ``out_indices``).
        device: default: CUDA if available, else the CPU.
    """
    cfg = Config.fromfile(config) if isinstance(config, str) else copy.deepcopy(config)
    register_all_modules(init_default_scope=True)
    if cfg.get('model') is None or cfg.model.get('backbone') is None:
        raise ValueError(f'{getattr(cfg, "filename", config)} has no model.backbone')
    backbone_cfg = copy.deepcopy(cfg.model.backbone)
    if stages is not None:
        parsed = [parse_stage(s) for s in stages]
        backbone_cfg['out_indices'] = tuple(sorted({index for _, index in parsed}))
    backbone = MODELS.build(backbone_cfg)
    if stages is None:  # the built backbone's out_indices (normalised: -1 -> the last)
        indices = getattr(backbone, 'out_indices', backbone_cfg.get('out_indices', (3, )))
        indices = (indices, ) if isinstance(indices, int) else tuple(indices)
        stages = [f'res{i + 2}' if 'ResNet' in str(backbone_cfg.get('type')) else int(i)
                  for i in indices]
    if hasattr(backbone, 'init_weights'):
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(logging.WARNING)  # not one line per initialised parameter
        try:
            backbone.init_weights()
        finally:
            logger.setLevel(level)
    if checkpoint is not None and str(checkpoint).lower() != 'none':
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'checkpoint file not found: {checkpoint}')
        load_backbone_weights(backbone, checkpoint)
    preprocessor_cfg = cfg.model.get('data_preprocessor') or cfg.get('data_preprocessor')
    preprocessor_cfg = dict(preprocessor_cfg or {})
    preprocessor_cfg.setdefault('type', 'SelfSupDataPreprocessor')
    model = FeatureModel(backbone, MODELS.build(preprocessor_cfg), stages,
                         feature_pipeline(cfg))
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    return model.to(device).eval()


def feature_pipeline(config: Union[str, Config]) -> list[dict]:
    """The pipeline of the config's first evaluation data: ``knn_dataloader``,
    ``test_dataloader``, ``val_dataloader``, then any ``*_test_dataloader`` (a
    ``KNNDataset``'s query part); ``[PackInputs]`` if it has none."""
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    keys = ['knn_dataloader', 'test_dataloader', 'val_dataloader']
    keys += sorted(k for k in cfg.keys() if k.endswith('_test_dataloader'))
    for key in keys:
        dataset = (cfg.get(key) or {}).get('dataset') or {}
        if dataset.get('type') == 'KNNDataset':
            dataset = dataset['query']
        if dataset.get('pipeline'):
            return [dict(t) for t in dataset['pipeline']]
    return [dict(type='PackInputs')]


def is_knn_dataset(config: Union[str, Config], name: str) -> bool:
    """Whether the config's ``{name}_dataloader`` holds a ``KNNDataset``."""
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    key = name if name.endswith('_dataloader') else f'{name}_dataloader'
    return (cfg.get(key) or {}).get('dataset', {}).get('type') == 'KNNDataset'


def limit_dataset(dataset_cfg: dict, max_images: Optional[int]) -> dict:
    """``dataset_cfg`` taking only its first ``max_images`` images (through ``indices``;
    a ``KNNDataset`` takes the first ``max_images`` of its bank and of its queries)."""
    dataset_cfg = copy.deepcopy(dataset_cfg)
    if max_images is None:
        return dataset_cfg
    if dataset_cfg.get('type') == 'KNNDataset':
        for part in ('bank', 'query'):
            dataset_cfg[part] = limit_dataset(dataset_cfg[part], max_images)
        return dataset_cfg
    indices = dataset_cfg.get('indices')
    if indices is None:
        dataset_cfg['indices'] = max_images
    elif isinstance(indices, int):
        dataset_cfg['indices'] = min(indices, max_images)
    else:
        dataset_cfg['indices'] = list(indices)[:max_images]
    return dataset_cfg


def build_feature_dataloader(config: Union[str, Config], name: str,
                             max_images: Optional[int] = None,
                             num_workers: Optional[int] = None,
                             part: Optional[str] = None) -> torch.utils.data.DataLoader:
    """The config's ``{name}_dataloader`` (``name`` may also be the full key), in order.

    The sampler is replaced by an unshuffled one and ``drop_last`` is off, so row i of
    the features is image i of the dataset. The dataset's own pipeline is used.
    ``part``: ``'bank'`` or ``'query'`` takes only that part of a ``KNNDataset`` (e.g.
    the test images of a kNN evaluation).

    Raises:
        KeyError: naming the config and its dataloaders if there is no such key, or the
            dataset if ``part`` is given for one that is not a ``KNNDataset``.
    """
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    register_all_modules(init_default_scope=True)
    key = name if name.endswith('_dataloader') else f'{name}_dataloader'
    if cfg.get(key) is None:
        found = sorted(k for k in cfg.keys() if k.endswith('_dataloader'))
        raise KeyError(f'{getattr(cfg, "filename", "the config")} has no {key}; it has '
                       f'{found or "no dataloaders"}')
    loader_cfg = copy.deepcopy(cfg[key])
    loader_cfg = loader_cfg.to_dict() if hasattr(loader_cfg, 'to_dict') else dict(loader_cfg)
    if part is not None:
        if part not in ('bank', 'query') or loader_cfg['dataset'].get('type') != 'KNNDataset':
            raise KeyError(f"part {part!r} of {key}: only 'bank' or 'query' of a KNNDataset "
                           f"(its dataset is a {loader_cfg['dataset'].get('type')})")
        loader_cfg['dataset'] = loader_cfg['dataset'][part]
    loader_cfg['dataset'] = limit_dataset(loader_cfg['dataset'], max_images)
    loader_cfg['sampler'] = dict(type='DefaultSampler', shuffle=False)
    loader_cfg['drop_last'] = False
    loader_cfg.setdefault('collate_fn', dict(type='default_collate'))  # one batch tensor
    loader_cfg.pop('batch_sampler', None)
    if num_workers is not None:
        loader_cfg['num_workers'] = num_workers
    if not loader_cfg.get('num_workers'):
        loader_cfg['persistent_workers'] = False
    return Runner.build_dataloader(loader_cfg)


def pool_stage(feat: torch.Tensor, pool: str = 'avg',
               pool_dim: int = VOC07_POOL_DIM) -> torch.Tensor:
    """(N, D) features from one stage's output.

    ``'avg'``: global average pooling of a (N, C, H, W) map to C dims (token sequences
    (N, L, C) are averaged over tokens; (N, C) vectors kept).

    ``'adaptive'``: the VOC07 SVM protocol of Goyal et al. (2019) as MMSelfSup runs it
    (``MultiPooling``): adaptive average pooling of the map to s x s cells, s chosen so
    that C * s^2 is about ``pool_dim`` (``s = round(sqrt(pool_dim / C))``, at most the
    map's side), and flattened. With ``pool_dim=9216`` this gives MMSelfSup's sizes for
    ResNet-50 at 224 px: res2 6 x 6 (9216 dims), res3 4 x 4 (8192), res4 3 x 3 (9216),
    res5 2 x 2 (8192). (MMSelfSup's default ``'specified'`` variant uses overlapping
    ``AvgPool2d`` windows of the same output sizes.)
    """
    if pool not in POOLS:
        raise ValueError(f'unknown pool {pool!r}; use one of {POOLS}')
    if feat.ndim == 2:
        return feat
    if feat.ndim == 3:
        return feat.mean(dim=1)
    if feat.ndim != 4:
        raise ValueError(f'cannot pool a stage output of shape {tuple(feat.shape)}')
    if pool == 'avg':
        return feat.mean(dim=(2, 3))
    channels, height, width = feat.shape[1:]
    side = max(1, min(round(math.sqrt(pool_dim / channels)), height, width))
    return F.adaptive_avg_pool2d(feat, side).flatten(1)


def _labels(data_samples) -> Optional[np.ndarray]:
    if not data_samples or not all(hasattr(s, 'gt_label') for s in data_samples):
        return None
    labels = np.stack([np.asarray(s.gt_label.cpu()) for s in data_samples])
    return labels[:, 0] if labels.ndim == 2 and labels.shape[1] == 1 else labels


def as_dataloader(data, pipeline: Sequence[dict], batch_size: int = 64,
                  num_workers: int = 0):
    """Batches of ``data``, in order: a dataset's samples (packed by its own pipeline),
    images (a folder, files, arrays: :class:`~mmssl.apis.images.ImageList` with
    ``pipeline``), or ``data`` itself (any other iterable: a dataloader)."""
    if isinstance(data, Dataset):
        return DataLoader(data, batch_size, num_workers=num_workers,
                          collate_fn=default_collate)
    if isinstance(data, (str, np.ndarray, torch.Tensor, list, tuple)):
        return DataLoader(ImageList(data, pipeline), batch_size, num_workers=num_workers,
                          collate_fn=collate_images)
    return data


@torch.no_grad()
def extract_features(model: nn.Module,
                     data: Union[Images, Dataset, DataLoader],
                     stages: Optional[Sequence[StageSpec]] = None,
                     pool: str = 'avg',
                     pool_dim: int = VOC07_POOL_DIM,
                     data_preprocessor: Optional[nn.Module] = None,
                     batch_size: int = 64,
                     num_workers: int = 0,
                     progress: bool = True) -> dict[str, np.ndarray]:
    """Pooled features of every image of ``data``, per stage, in order.

    Args:
        model: a :class:`FeatureModel`, an mmssl algorithm (its ``backbone`` and
            ``data_preprocessor`` are used) or a bare backbone. Its backbone's
            ``out_indices`` must include the stages.
        data: a dataloader (batches as ``PackInputs`` + ``default_collate`` give them), a
            dataset whose samples are packed so (e.g. ``FashionMNIST(...,
            pipeline=model.pipeline)``), or images: a folder, image files, arrays
            (:func:`~mmssl.apis.images.as_image_list`), prepared by ``model.pipeline``.
        stages: names as :func:`parse_stage` (default: the model's ``stages``, else every
            output of the backbone, named ``stage{out_index}``).
        pool, pool_dim: see :func:`pool_stage`.
        data_preprocessor: overrides the model's.
        batch_size, num_workers: of the dataloader made for a dataset or images.
        progress: draw a progress bar (main process only).

    Returns:
        ``{stage: (N, D) float32}``, plus ``'labels'`` (``(N,)``, or ``(N, K)`` for
        multi-label data, from each data sample's ``gt_label``) when the data samples
        have labels, and ``'knn_bank'`` ``(N,)`` bool for a ``KNNDataset``.
    """
    loader = as_dataloader(data, getattr(model, 'pipeline', [dict(type='PackInputs')]),
                           batch_size, num_workers)
    backbone = getattr(model, 'backbone', model)
    if data_preprocessor is None:
        data_preprocessor = getattr(model, 'data_preprocessor', None)
    out_indices = getattr(backbone, 'out_indices', None)
    if isinstance(out_indices, int):
        out_indices = (out_indices, )
    if stages is None:
        stages = getattr(model, 'stages', None) or [
            f'stage{i}' for i in (out_indices if out_indices is not None else [])]
        if not stages:
            raise ValueError('extract_features: give the stages (the backbone has no '
                             'out_indices)')
    parsed = [parse_stage(s) for s in stages]
    if out_indices is None:
        positions = [index for _, index in parsed]
    else:
        out_indices = list(out_indices)
        missing = [name for name, index in parsed if index not in out_indices]
        if missing:
            raise ValueError(f'the backbone does not output {missing}: its out_indices are '
                             f'{out_indices}; build it with build_feature_model(stages=...)')
        positions = [out_indices.index(index) for _, index in parsed]
    backbone.eval()
    if data_preprocessor is not None:
        data_preprocessor.eval()
    device = next(backbone.parameters()).device
    feats = {name: [] for name, _ in parsed}
    labels, in_bank = [], []
    for batch in progress_bar(loader, 'features', unit='batch', enabled=progress):
        if data_preprocessor is not None:
            batch = data_preprocessor(batch, training=False)
        inputs = batch['inputs']
        if isinstance(inputs, (list, tuple)):
            inputs = inputs[0]
        outputs = backbone(inputs.to(device).float())
        if isinstance(outputs, torch.Tensor):
            outputs = (outputs, )
        for (name, _), pos in zip(parsed, positions):
            feats[name].append(pool_stage(outputs[pos], pool, pool_dim).float().cpu().numpy())
        samples = batch.get('data_samples')
        labels.append(_labels(samples))
        if samples and all('knn_bank' in s.metainfo for s in samples):
            in_bank.append(np.array([bool(s.knn_bank) for s in samples]))
    result = {name: np.concatenate(chunks) if chunks else np.zeros((0, 0), np.float32)
              for name, chunks in feats.items()}
    if labels and all(chunk is not None for chunk in labels):
        result['labels'] = np.concatenate(labels)
    if in_bank and len(in_bank) == len(labels):
        result['knn_bank'] = np.concatenate(in_bank)
    return result
