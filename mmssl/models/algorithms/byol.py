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
        ema_momentum, ema_schedule, ema_momentum_end: the target's EMA factor (BYOL's
            defaults: 0.996 -> 1, cosine).
        **kwargs: ``data_preprocessor``, ``channels_last``, ``init_cfg``: as
            :class:`MomentumSelfSupervisor`.
    """

    def __init__(self,
                 backbone: ModuleCfg,
                 neck: ModuleCfg,
                 head: ModuleCfg,
                 ema_momentum: float = 0.996,
                 ema_schedule: str = 'cosine',
                 ema_momentum_end: float = 1.0,
                 **kwargs) -> None:
        super().__init__(backbone, neck, head, ema_momentum=ema_momentum,
                         ema_schedule=ema_schedule, ema_momentum_end=ema_momentum_end,
                         **kwargs)

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: two views (N, C, H, W); each goes through the networks on its own."""
        views = self.split_views(inputs, 2)
        online = [self.project(view) for view in views]
        with torch.no_grad():
            targets = [self.momentum_project(view) for view in views]
        return dict(loss=self.head.loss(online, targets))
