"""The classic pretext tasks: rotation, relative location, jigsaw (classification),
counting, colorization and motion segmentation.

The views come from the CPU transforms of ``mmssl/datasets/transforms/pretext.py`` (a list
of V view batches, in the transform's documented order); the classification labels from
``data_sample.pretext_label`` (``PackInputs(algorithm_keys=['pretext_label'])``), never
from ``gt_label``, which keeps the dataset's class for the online probe and kNN.
"""
from typing import Optional, Sequence

import torch
from mmpretrain.structures import DataSample
from torch import Tensor

from mmssl.registry import MODELS
from .base import BaseSelfSupervisor, pool_features


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
    """(N, H, W) int64 per-pixel labels from each data sample's ``key`` (``ab_label`` of
    colorization, ``motion_label`` of motion segmentation); ``owner`` names the algorithm
    (or task) in the error."""
    values = sample_values(data_samples, key, owner)
    return torch.stack([torch.as_tensor(value) for value in values]).long()


def counting_terms(counts: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(5, N, K) counts of [D∘x, T_1∘x, ..., T_4∘x] -> the three inputs of
    :func:`counting_loss`: φ(D∘x) (N, K), φ(T_j∘x) (N, 4, K) and φ(D∘y) (N, K), y the
    previous image of the batch (image i - 1; the first image's is the last one)."""
    down = counts[0]
    return down, counts[1:].transpose(0, 1), down.roll(1, dims=0)


class _StackedViews(BaseSelfSupervisor):
    """Runs all the views of a batch through the backbone (and neck) as one batch."""

    #: the number of views per image the pipeline must give
    num_views: int = 1

    def view_features(self, views: Sequence[Tensor], view_norm: bool = False) -> Tensor:
        """(V, N, C) per-view features of V view batches (N, 3, h, w) of one size.

        The neck's output, or the pooled last backbone output without a neck. With
        ``view_norm`` each view is first standardised on its own, per channel (jigsaw's
        per-tile normalisation). The first view's backbone output goes to the online probe.
        """
        n = views[0].shape[0]
        x = torch.cat(list(views))
        if view_norm:
            mean = x.mean(dim=(2, 3), keepdim=True)
            std = x.std(dim=(2, 3), keepdim=True)
            x = (x - mean) / (std + 1e-5)
        outs = self.backbone(x)
        self.set_probe_features(outs[-1][:n])
        feats = self.neck(outs)[0] if self.neck is not None else pool_features(outs[-1])
        return feats.reshape(len(views), n, -1)


class PretextClassifier(_StackedViews):
    """Classifies groups of views by a pretext label (rotation, relative location, jigsaw).

    The V = ``num_views`` views of each image form V / G groups of G consecutive views
    (``views_per_group``); each group's features, (G, C), go to the head (a
    :class:`PretextClsHead` with ``num_parts=G``), which classifies it. Labels: each
    data sample's ``pretext_label``, one per group (V / G values), in view order.

    Args:
        num_views, views_per_group: V and G (subclasses fix the paper's values).
        view_norm: standardise each view on its own before the backbone.
        backbone, neck, head, ...: as :class:`BaseSelfSupervisor`.
    """

    views_per_group: int = 1
    view_norm: bool = False

    def __init__(self, *args, num_views: Optional[int] = None,
                 views_per_group: Optional[int] = None, view_norm: Optional[bool] = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.num_views = num_views or self.num_views
        self.views_per_group = views_per_group or self.views_per_group
        self.view_norm = self.view_norm if view_norm is None else view_norm
        if self.num_views % self.views_per_group:
            raise ValueError(f'{self.num_views} views do not split into groups of '
                             f'{self.views_per_group}')

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: V view batches (N, C, h, w); returns ``loss`` and ``acc``."""
        views = self.split_views(inputs, self.num_views)
        feats = self.view_features(views, self.view_norm)  # (V, N, C)
        labels = pretext_labels(data_samples, self.num_views // self.views_per_group,
                                type(self).__name__).to(feats.device)
        return self.head.loss(group_views(feats, self.views_per_group), labels)


@MODELS.register_module()
class RotationPred(PretextClassifier):
    """RotNet (Gidaris et al. 2018): classify the rotation (0/90/180/270) of each view.

    Pipeline: ``FourRotations`` (4 views, ``pretext_label`` [0, 1, 2, 3]).
    """

    num_views = 4
    views_per_group = 1


@MODELS.register_module()
class RelativeLoc(PretextClassifier):
    """Context prediction (Doersch et al. 2015): where a patch lies around the centre one.

    Pipeline: ``RelativeLocPatches`` (views [centre, neighbour], ``pretext_label`` one of 8
    positions); the head reads both patches' features concatenated.
    """

    num_views = 2
    views_per_group = 2


@MODELS.register_module()
class Jigsaw(PretextClassifier):
    """Jigsaw puzzles (Noroozi & Favaro 2016): which permutation shuffled the 9 tiles.

    Pipeline: ``JigsawTiles`` (9 tiles in shuffled order, ``pretext_label`` the index of
    the permutation in its set); each tile is standardised on its own (``view_norm``, as
    the paper normalises every tile) and the head reads the 9 features concatenated.
    """

    num_views = 9
    views_per_group = 9
    view_norm = True


@MODELS.register_module()
class Counting(_StackedViews):
    """Learning to count (Noroozi, Pirsiavash & Favaro 2017).

    φ = backbone (+ neck) + the head's ReLU count layer. Views from ``CountingViews``:
    [D∘x, T_1∘x, ..., T_4∘x]; the contrastive image y of each x is the previous image
    of the batch (the batch rolled by one), so a batch needs at least 2 images. The loss
    is the head's :func:`counting_loss` (margin M).
    """

    num_views = 5

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: 5 view batches (N, C, h, w), the downsampled image first."""
        views = self.split_views(inputs, self.num_views)
        if views[0].shape[0] < 2:
            raise ValueError('Counting needs at least 2 images per batch: the other image '
                             'y of the contrastive term comes from the same batch')
        feats = self.view_features(views)  # (5, N, C)
        v, n, c = feats.shape
        counts = self.head(feats.reshape(v * n, c)).reshape(v, n, -1)
        return self.head.loss(*counting_terms(counts))


class DensePretext(BaseSelfSupervisor):
    """A per-pixel pretext task: the head (a :class:`DenseClsHead`) reads the backbone's
    last output map of one view and classifies every pixel of the data samples'
    ``label_key`` map ((H, W) class indices, packed with
    ``PackInputs(algorithm_keys=[label_key])``)."""

    #: the data sample field holding the (H, W) target map
    label_key: str = ''

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: one view batch (N, 3, H, W)."""
        (view,) = self.split_views(inputs, 1)
        labels = dense_labels(data_samples, self.label_key, type(self).__name__)
        outs = self.backbone(view)
        self.set_probe_features(outs[-1])
        return self.head.loss(outs[-1], labels.to(view.device))

    @torch.no_grad()
    def segment(self, inputs: Tensor, size: Sequence[int]) -> Tensor:
        """(N, Q, H, W) class probabilities at ``size`` = (H, W) of a normalised batch
        (N, 3, h, w) (the data preprocessor's output)."""
        return self.head(self.backbone(inputs)[-1], size).softmax(dim=1)


@MODELS.register_module()
class Colorization(DensePretext):
    """Colorization (Zhang, Isola & Efros 2016): predict the quantised ab colours from L.

    Pipeline: ``ColorizationViews`` (one view, the lightness repeated over 3 channels, and
    ``ab_label``, an (H, W) map of colour bins). Head: a :class:`ColorizationHead`.
    """

    label_key = 'ab_label'


@MODELS.register_module()
class MotionSegmentation(DensePretext):
    """Motion segmentation (Pathak et al., CVPR 2017): segment, from one video frame, the
    pixels that move.

    Data: frames and their motion masks mined from videos
    (``tools/dataset_converters/mine_motion_masks.py``), loaded by ``ImageFolder(...,
    mask_root=...)`` and ``LoadMotionMask``; ``MotionSegmentationViews`` crops both
    (one view, and ``motion_label``, an (H, W) map of 0/1, 255 where unknown). Head: a
    :class:`DenseClsHead` with 2 classes and ``ignore_index=255``.
    """

    label_key = 'motion_label'
