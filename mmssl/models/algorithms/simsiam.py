from typing import Optional

from mmpretrain.structures import DataSample
from torch import Tensor

from mmssl.registry import MODELS
from .base import BaseSelfSupervisor


@MODELS.register_module()
class SimSiam(BaseSelfSupervisor):
    """SimSiam (Chen & He 2021): predict the other view's projection, stop-gradient on it.

    One encoder, backbone -> projector (``neck``, 3 layers), and a bottleneck predictor
    in the :class:`PredictorHead`; no target network, no negatives. With
    ``CosineRegressionHead(loss='negative_cosine', loss_weight=0.5)`` the head's loss is
    the paper's ``D(p_1, sg(z_2)) / 2 + D(p_2, sg(z_1)) / 2``, ``D = -cos``, averaged
    over the batch. The paper trains the predictor at a fixed lr: mark its parameters
    ``fix_lr=True`` in ``paramwise_cfg`` and end the schedule with ``FixedGroupLR``
    (see ``configs/_base_/schedules/simsiam_sgd_coslr_100e.py``).
    """

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: two views (N, C, H, W); each goes through the encoder on its own."""
        projections = [self.project(view) for view in self.split_views(inputs, 2)]
        return dict(loss=self.head.loss(projections, projections))  # the head detaches
