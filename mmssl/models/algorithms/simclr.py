from typing import Optional

import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample
from torch import Tensor

from mmssl.registry import MODELS
from .base import BaseSelfSupervisor


@MODELS.register_module()
class SimCLR(BaseSelfSupervisor):
    """SimCLR (Chen et al. 2020): NT-Xent between two views through one encoder.

    Both views go through the backbone and projection neck in one batch of 2N; the
    head's NT-Xent treats every other view of the global batch as a negative.
    """

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: two views (N, C, H, W)."""
        views = self.split_views(inputs, 2)
        z = F.normalize(self.project(torch.cat(views)), dim=1)
        z_a, z_b = z.chunk(2)
        return dict(loss=self.head.loss(z_a, z_b))
