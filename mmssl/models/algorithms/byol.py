from typing import Optional

import torch
from mmpretrain.structures import DataSample
from torch import Tensor

from mmssl.registry import MODELS
from .base import ModuleCfg
from .momentum import MomentumSelfSupervisor


@MODELS.register_module()
class BYOL(MomentumSelfSupervisor):
    """BYOL (Grill et al. 2020): predict the target network's projection of the other view.

    Online network: ``backbone`` -> projector ``neck`` -> predictor (in the head); target
    network: the EMA of backbone + projector (``momentum_backbone``, ``momentum_neck``),
    with m rising from 0.996 to 1 on a cosine schedule over training. The head is a
    :class:`PredictorHead`; with ``CosineRegressionHead(loss='normalized_l2')`` the loss
    is the paper's ``L + L~ = sum over both view orders of 2 - 2 cos(p_v, sg(z'_other))``,
    each averaged over the batch. MoCo v3 subclasses it with a contrastive head.

    Args:
        backbone, neck, head: the encoder, the projector and a :class:`PredictorHead`.
        base_momentum, momentum_schedule, final_momentum: the target's EMA (BYOL's
            defaults: 0.996 -> 1, cosine).
        **kwargs: ``data_preprocessor``, ``channels_last``, ``init_cfg``: as
            :class:`MomentumSelfSupervisor`.
    """

    def __init__(self,
                 backbone: ModuleCfg,
                 neck: ModuleCfg,
                 head: ModuleCfg,
                 base_momentum: float = 0.996,
                 momentum_schedule: str = 'cosine',
                 final_momentum: float = 1.0,
                 **kwargs) -> None:
        super().__init__(backbone, neck, head, base_momentum=base_momentum,
                         momentum_schedule=momentum_schedule,
                         final_momentum=final_momentum, **kwargs)

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: two views (N, C, H, W); each goes through the networks on its own."""
        views = self.split_views(inputs, 2)
        online = [self.project(view) for view in views]
        with torch.no_grad():
            targets = [self.momentum_project(view) for view in views]
        return dict(loss=self.head.loss(online, targets))
