from typing import Optional

from mmpretrain.structures import DataSample
from torch import Tensor

from mmssl.registry import MODELS
from .base import BaseSelfSupervisor


@MODELS.register_module()
class BarlowTwins(BaseSelfSupervisor):
    """Barlow Twins (Zbontar et al. 2021): decorrelate the embeddings of two views.

    One encoder, backbone -> projector (``neck``, 8192-8192-8192 with BN and ReLU); the
    :class:`BarlowTwinsHead` drives the cross-correlation matrix of the two views'
    batch-standardised embeddings over the global batch towards the identity:
    ``sum_i (1 - C_ii)^2 + lambda * sum_{i != j} C_ij^2``.
    """

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: two views (N, C, H, W); each goes through the encoder on its own."""
        view_a, view_b = self.split_views(inputs, 2)
        return dict(loss=self.head.loss(self.project(view_a), self.project(view_b)))
