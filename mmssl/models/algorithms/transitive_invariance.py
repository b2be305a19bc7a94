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
    negative], the positive connected to the anchor in the patch graph directly or
    transitively, the negative from another component. All three go through the shared
    backbone and neck as one batch (:meth:`project`), are L2-normalised and the head (a
    ``TripletRankingHead``) takes ``max(0, D(a, p) − D(a, n) + margin)`` with the cosine
    distance D.

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
        """inputs: 3 view batches [anchor, positive, negative]; returns ``loss``."""
        anchor, positive, negative = self.embed(self.split_views(inputs, self.num_views))
        negatives = negative if self.in_batch_negatives else negative.unsqueeze(1)
        return dict(loss=self.head.loss(anchor, positive, negatives))
