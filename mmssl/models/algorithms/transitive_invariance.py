"""Transitive invariance (Wang, He & Gupta, ICCV 2017): a triplet network on a patch graph."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample
from torch import Tensor

from mmssl.models.utils.build import ModuleCfg
from mmssl.registry import MODELS
from .base import BaseSelfSupervisor


@MODELS.register_module()
class TransitiveInvariance(BaseSelfSupervisor):
    """The triplet network of transitive invariance.

    Views (``TransitiveTripletDataset``): 3 batches (N, C, H, W), [anchor, positive,
    negative], anchor and positive a pair of the patch graph (an intra or inter edge, or a
    transitive inter-then-intra pair), the negative a node not paired with the anchor.
    All three go through the shared backbone and neck as one batch (:meth:`project`), are
    L2-normalised and the head (a ``TripletRankingHead``) takes
    ``max(0, D(a, p) − D(a, n) + margin)`` with the cosine distance D.

    When the data samples carry ``pair_kind`` (``PackInputs(meta_keys=('pair_kind', ))``),
    the loss of each kind's triplets is also logged, without gradient, as
    ``triplet_{kind}`` (not a ``loss`` key: the optimised loss stays the batch mean).

    Args:
        in_batch_negatives: every anchor is also ranked against the other triplets'
            negatives (the N negatives shared, (N, D)), not only its own. A sampled
            negative may, rarely, be connected to another triplet's anchor.
        backbone, neck, head, ...: as :class:`BaseSelfSupervisor`.
    """

    num_views = 3

    def __init__(self, backbone: ModuleCfg, neck: Optional[ModuleCfg] = None,
                 head: Optional[ModuleCfg] = None, in_batch_negatives: bool = False,
                 **kwargs) -> None:
        super().__init__(backbone, neck=neck, head=head, **kwargs)
        self.in_batch_negatives = in_batch_negatives

    def embed(self, views: list[Tensor]) -> tuple[Tensor, ...]:
        """The L2-normalised (N, D) projections of each view batch, in order."""
        n = views[0].shape[0]
        feats = F.normalize(self.project(torch.cat(views)), dim=1)
        return feats.split(n)

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: 3 view batches [anchor, positive, negative]; returns ``loss`` and, if
        the samples carry ``pair_kind``, ``triplet_{kind}`` per kind (detached)."""
        anchor, positive, negative = self.embed(self.split_views(inputs, self.num_views))
        negatives = negative if self.in_batch_negatives else negative.unsqueeze(1)
        losses = dict(loss=self.head.loss(anchor, positive, negatives))
        kinds = [sample.get('pair_kind') for sample in data_samples or ()]
        with torch.no_grad():
            for kind in sorted(set(kinds) - {None}):
                rows = [num for num, k in enumerate(kinds) if k == kind]
                own = negatives if self.in_batch_negatives else negatives[rows]
                losses[f'triplet_{kind}'] = self.head.loss(anchor[rows], positive[rows], own)
        return losses
