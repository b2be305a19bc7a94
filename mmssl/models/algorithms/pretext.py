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

from mmssl.models.tasks import (ClassificationTask, ColorizationTask, CountingTask, DenseTask,
                                MotionSegmentationTask, PretextTask)
from mmssl.registry import MODELS
from .base import BaseSelfSupervisor, pool_features


class _StackedViews(BaseSelfSupervisor):
    """Runs all the views of a batch through the backbone (and neck) as one batch and
    hands the per-view features (V, N, C) to its task (``self.task``, built by the
    subclass from ``head``)."""

    #: the number of views per image the pipeline must give
    num_views: int = 1
    view_norm: bool = False
    task: PretextTask

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

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: V view batches (N, C, h, w); returns the task's losses."""
        views = self.split_views(inputs, self.num_views)
        return self.task.loss(self.view_features(views, self.view_norm), data_samples)


class PretextClassifier(_StackedViews):
    """Classifies groups of views by a pretext label (rotation, relative location, jigsaw):
    a :class:`ClassificationTask` on the head (a :class:`PretextClsHead` with
    ``num_parts=G``).

    The V = ``num_views`` views of each image form V / G groups of G consecutive views
    (``views_per_group``), each classified by the head. Labels: each data sample's
    ``pretext_label``, one per group (V / G values), in view order. Losses: ``loss`` and
    ``acc``.

    Args:
        num_views, views_per_group: V and G (subclasses fix the paper's values).
        view_norm: standardise each view on its own before the backbone.
        backbone, neck, head, ...: as :class:`BaseSelfSupervisor`.
    """

    views_per_group: int = 1

    def __init__(self, *args, num_views: Optional[int] = None,
                 views_per_group: Optional[int] = None, view_norm: Optional[bool] = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.num_views = num_views or self.num_views
        self.view_norm = self.view_norm if view_norm is None else view_norm
        task = ClassificationTask(self.head, self.num_views,
                                  views_per_group or self.views_per_group)
        self.task = task.bound(type(self).__name__)


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
    """Learning to count (Noroozi, Pirsiavash & Favaro 2017): a :class:`CountingTask`.

    φ = backbone (+ neck) + the head's ReLU count layer. Views from ``CountingViews``:
    [D∘x, T_1∘x, ..., T_4∘x]; the contrastive image y of each x is the previous image
    of the batch (the batch rolled by one), so a batch needs at least 2 images. The loss
    is the head's :func:`counting_loss` (margin M).
    """

    num_views = 5

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.task = CountingTask(self.head, self.num_views).bound(type(self).__name__)


class DensePretext(BaseSelfSupervisor):
    """A per-pixel pretext task (a :class:`DenseTask` of type ``task_type`` on the head, a
    :class:`DenseClsHead`): the head reads the backbone's last output map of one view and
    classifies every pixel of the data samples' target map (the task's ``label_key``)."""

    task_type: type[DenseTask] = DenseTask

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.task = self.task_type(self.head).bound(type(self).__name__)

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: one view batch (N, 3, H, W)."""
        (view,) = self.split_views(inputs, 1)
        outs = self.backbone(view)
        self.set_probe_features(outs[-1])
        return self.task.loss(outs[-1], data_samples)

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

    task_type = ColorizationTask


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

    task_type = MotionSegmentationTask
