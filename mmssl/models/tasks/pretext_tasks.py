"""Pretext tasks as objects: each owns its head and computes its loss from the trunk's
features of its views, the same in a single-task algorithm (``RotationPred``,
``Counting``, ``Colorization``, ...) and in :class:`MultiTaskLasso`.

A task reads either per-view features (V, N, C), V view batches of N images, or, if
``reads_map``, the feature map (N, C, h, w) of its single view. The algorithm computes
them (its backbone, neck or lasso combination) and calls :meth:`PretextTask.loss`.
"""
import copy
from typing import Optional, Union

import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample
from torch import Tensor

from mmssl.models.utils.build import ModuleCfg, build_module
from mmssl.registry import MODELS


def group_views(feats: Tensor, views_per_group: int) -> Tensor:
    """(V, N, C) per-view features -> (N * V / G, G, C): each image's V views cut into
    groups of G consecutive views, image-major."""
    v, n, c = feats.shape
    return feats.transpose(0, 1).reshape(n * v // views_per_group, views_per_group, c)


def sample_values(data_samples: Optional[list[DataSample]], key: str, owner: str) -> list:
    """Each data sample's ``key``; ``owner`` names the algorithm (or task) in the error
    raised when a sample lacks it."""
    if not data_samples or any(key not in s for s in data_samples):
        raise ValueError(f"{owner} needs {key} in every data sample: pack it with "
                         f"dict(type='PackInputs', algorithm_keys=['{key}'])")
    return [s.get(key) for s in data_samples]


def pretext_labels(data_samples: Optional[list[DataSample]], num_groups: int,
                   owner: str, key: str = 'pretext_label', task: Optional[str] = None) -> Tensor:
    """(N * num_groups,) int64 labels, image-major, from each data sample's ``key``.

    ``task``: the value is a dict of labels per task (``MultiTaskViews``); take this one.
    ``owner`` names the algorithm in the errors.
    """
    values = sample_values(data_samples, key, owner)
    if task is not None:
        values = [value[task] for value in values]
    labels = torch.stack([torch.as_tensor(v).reshape(-1) for v in values])
    if labels.shape[1] != num_groups:
        raise ValueError(f'expected {num_groups} pretext labels per image, got '
                         f'{labels.shape[1]}')
    return labels.reshape(-1).long()


def dense_labels(data_samples: Optional[list[DataSample]], key: str, owner: str) -> Tensor:
    """(N, H, W) int64 per-pixel labels from each data sample's ``key``; ``owner`` names
    the algorithm (or task) in the error."""
    values = sample_values(data_samples, key, owner)
    return torch.stack([torch.as_tensor(value) for value in values]).long()


def counting_terms(counts: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(5, N, K) counts of [D∘x, T_1∘x, ..., T_4∘x] -> the three inputs of
    :func:`counting_loss`: φ(D∘x) (N, K), φ(T_j∘x) (N, 4, K) and φ(D∘y) (N, K), y the
    previous image of the batch (image i - 1; the first image's is the last one)."""
    down = counts[0]
    return down, counts[1:].transpose(0, 1), down.roll(1, dims=0)


class PretextTask:
    """A pretext task: its head, its number of views per image, and its loss.

    Not an ``nn.Module``: the algorithm registers the head (``head`` of a single-task
    algorithm, ``head.<task>`` of :class:`MultiTaskLasso`), so a head's state-dict keys do
    not depend on whether a task wraps it.

    Args:
        head: the task's head (a config dict or a module).
        num_views: V, the views per image the task reads (its pipeline gives them).
        loss_weight: a factor on the task's losses where several tasks are summed
            (:class:`MultiTaskLasso`).

    Attributes:
        reads_map: whether :meth:`loss` takes the feature map (N, C, h, w) of the task's
            one view instead of per-view features (V, N, C).
        owner: who the errors name (the algorithm, or ``'MultiTaskLasso task <name>'``).
        name: the task's entry in dicts of labels per task (``pretext_label`` of
            ``MultiTaskViews``); None in a single-task algorithm.
    """

    reads_map: bool = False
    #: the views a task must read, if fixed (None: any number)
    fixed_views: Optional[int] = None

    def __init__(self, head: ModuleCfg, num_views: int, loss_weight: float = 1.0) -> None:
        if self.fixed_views is not None and num_views != self.fixed_views:
            raise ValueError(f'{type(self).__name__} needs num_views={self.fixed_views}, '
                             f'got {num_views}')
        self.head = build_module(head)
        self.num_views = num_views
        self.loss_weight = loss_weight
        self.owner = type(self).__name__
        self.name: Optional[str] = None

    def bound(self, owner: str, name: Optional[str] = None) -> 'PretextTask':
        """A copy sharing the head, with :attr:`owner` and :attr:`name` set (see the class
        docstring): one task object can serve several algorithms."""
        task = copy.copy(self)
        task.owner, task.name = owner, name
        return task

    def loss(self, feats: Tensor,
             data_samples: Optional[list[DataSample]]) -> dict[str, Tensor]:
        """The task's losses (and metrics) from ``feats``, (V, N, C) per-view features
        or, if :attr:`reads_map`, an (N, C, h, w) map."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_views={self.num_views}, '
                f'loss_weight={self.loss_weight}, head={type(self.head).__name__})')


@MODELS.register_module()
class ClassificationTask(PretextTask):
    """Classifies groups of views by a pretext label (rotation, relative location, jigsaw).

    The V views of each image form V / G groups of G consecutive views; each group's
    features (G, C) go to the head (a :class:`PretextClsHead` with ``num_parts=G``).
    Labels: each data sample's ``pretext_label``, one per group, in view order (its
    ``[name]`` entry in a multi-task run). Losses: the head's ``loss`` and ``acc``.

    Args:
        head, num_views, loss_weight: as :class:`PretextTask`.
        views_per_group: G.
    """

    def __init__(self, head: ModuleCfg, num_views: int, views_per_group: int = 1,
                 loss_weight: float = 1.0) -> None:
        if num_views % views_per_group:
            raise ValueError(f'{num_views} views do not split into groups of '
                             f'{views_per_group}')
        super().__init__(head, num_views, loss_weight)
        self.views_per_group = views_per_group

    def loss(self, feats: Tensor,
             data_samples: Optional[list[DataSample]]) -> dict[str, Tensor]:
        """feats: (V, N, C)."""
        labels = pretext_labels(data_samples, self.num_views // self.views_per_group,
                                self.owner, task=self.name).to(feats.device)
        return self.head.loss(group_views(feats, self.views_per_group), labels)


@MODELS.register_module()
class CountingTask(PretextTask):
    """Learning to count (Noroozi et al. 2017): the head (a :class:`CountingHead`) maps
    the views [D∘x, T_1∘x, ..., T_4∘x] (``CountingViews``) to counts; the contrastive
    image y of each x is the previous image of the batch, so a batch needs at least 2
    images. Loss: the head's :func:`counting_loss`."""

    def __init__(self, head: ModuleCfg, num_views: int = 5, loss_weight: float = 1.0) -> None:
        super().__init__(head, num_views, loss_weight)

    def counts(self, feats: Tensor) -> Tensor:
        """(V, N, C) features -> (V, N, K) counts."""
        v, n, c = feats.shape
        return self.head(feats.reshape(v * n, c)).reshape(v, n, -1)

    def loss(self, feats: Tensor,
             data_samples: Optional[list[DataSample]]) -> dict[str, Tensor]:
        """feats: (5, N, C), the downsampled image's first."""
        if feats.shape[1] < 2:
            raise ValueError(f'{self.owner} needs at least 2 images per batch: the other '
                             f'image y of the contrastive term comes from the same batch')
        return self.head.loss(*counting_terms(self.counts(feats)))


@MODELS.register_module()
class ExemplarTask(PretextTask):
    """Exemplar (instance discrimination as Doersch & Zisserman 2017 train it): two
    augmented views of each image; the head (a :class:`TripletRankingHead` or
    :class:`InfoNCEHead`) reads their L2-normalised features, the other images of the
    batch as negatives. Loss: ``loss``."""

    fixed_views = 2

    def __init__(self, head: ModuleCfg, num_views: int = 2, loss_weight: float = 1.0) -> None:
        super().__init__(head, num_views, loss_weight)

    def loss(self, feats: Tensor,
             data_samples: Optional[list[DataSample]]) -> dict[str, Tensor]:
        """feats: (2, N, C), the query's view first."""
        query, key = F.normalize(feats, dim=2)
        return dict(loss=self.head.loss(query, key))


@MODELS.register_module()
class DenseTask(PretextTask):
    """A per-pixel task: the head (a :class:`DenseClsHead`) reads the feature map of the
    task's one view and classifies every pixel of the data samples' ``label_key`` map
    ((H, W) class indices, packed with ``PackInputs(algorithm_keys=[label_key])``).
    Losses: the head's ``loss`` and ``acc``.

    Args:
        head, num_views, loss_weight: as :class:`PretextTask` (one view).
        label_key: the data sample field of the target map.
    """

    reads_map = True
    fixed_views = 1
    #: the default ``label_key`` of a subclass
    default_label_key: Optional[str] = None

    def __init__(self, head: ModuleCfg, num_views: int = 1,
                 label_key: Optional[str] = None, loss_weight: float = 1.0) -> None:
        super().__init__(head, num_views, loss_weight)
        self.label_key = label_key or self.default_label_key
        if not self.label_key:
            raise ValueError(f'{type(self).__name__} needs a label_key')

    def loss(self, feats: Tensor,
             data_samples: Optional[list[DataSample]]) -> dict[str, Tensor]:
        """feats: (N, C, h, w)."""
        labels = dense_labels(data_samples, self.label_key, self.owner)
        return self.head.loss(feats, labels.to(feats.device))


@MODELS.register_module()
class ColorizationTask(DenseTask):
    """Colorization (Zhang et al. 2016): the quantised ab colours (``ab_label`` of
    ``ColorizationViews``) of the lightness view; head: a :class:`ColorizationHead`."""

    default_label_key = 'ab_label'


@MODELS.register_module()
class MotionSegmentationTask(DenseTask):
    """Motion segmentation (Pathak et al. 2017): which pixels of a frame move
    (``motion_label`` of ``MotionSegmentationViews``: 0/1, 255 where unknown); head: a
    :class:`DenseClsHead` with 2 classes and ``ignore_index=255``."""

    default_label_key = 'motion_label'


def task_types() -> list[str]:
    """The names of the registered pretext task classes."""
    return sorted(name for name, cls in MODELS.module_dict.items()
                  if isinstance(cls, type) and issubclass(cls, PretextTask))


def build_task(cfg: Union[dict, PretextTask]) -> PretextTask:
    """A task from its config (``type`` one of :func:`task_types`), or the task itself.

    Raises:
        ValueError: if ``type`` names no pretext task.
    """
    if isinstance(cfg, PretextTask):
        return cfg
    kind = cfg.get('type') if isinstance(cfg, dict) else None
    cls = MODELS.get(kind) if isinstance(kind, str) else kind
    if not (isinstance(cls, type) and issubclass(cls, PretextTask)):
        raise ValueError(f'unknown task type {kind!r}: a task is dict(type=T, head=..., '
                         f'...) with T one of {task_types()}')
    return MODELS.build(cfg)
