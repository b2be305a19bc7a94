"""The prediction MLP shared by BYOL, SimSiam and MoCo v3, and the cosine losses it is
scored with."""
from typing import Sequence, Union

import torch.nn.functional as F
from torch import Tensor, nn

from mmssl.models.losses import negative_cosine_similarity, normalized_l2
from mmssl.models.utils.build import build_module
from mmssl.registry import MODELS


@MODELS.register_module()
class PredictorHead(nn.Module):
    """A prediction MLP on the online projections, scored against the other view's target.

    With the online projections ``z_1, z_2`` of two views and their targets ``t_1, t_2``
    (a momentum encoder's projections in BYOL and MoCo v3, the online projections
    themselves in SimSiam), the symmetric loss is::

        L = loss(p_1, sg(t_2)) + loss(p_2, sg(t_1)),    p_v = predictor(z_v)

    with ``sg`` the stop-gradient. Predictions and targets are L2-normalised before
    ``loss`` (:class:`InfoNCEHead` needs unit vectors; the cosine losses do not change).
    Each view goes through the predictor on its own, so its BN sees one view per batch,
    as in the papers' code.

    Args:
        predictor: the prediction MLP taking and returning a 1-tuple of (N, D), e.g.
            ``dict(type='NonLinearNeck', ..., with_avg_pool=False)``.
        loss: a head with ``loss(pred, target) -> scalar``: :class:`CosineRegressionHead`
            (BYOL, SimSiam) or :class:`InfoNCEHead` (MoCo v3, in-batch negatives).
    """

    def __init__(self, predictor: Union[dict, nn.Module], loss: Union[dict, nn.Module]) -> None:
        super().__init__()
        self.predictor = build_module(predictor)
        self.loss_head = build_module(loss)

    def forward(self, projection: Tensor) -> Tensor:
        """(N, D) the prediction for one view's projection (N, D')."""
        return self.predictor((projection, ))[0]

    def loss(self, online: Sequence[Tensor], targets: Sequence[Tensor]) -> Tensor:
        """online, targets: the (N, D) projections and targets of views 1 and 2."""
        if len(online) != 2 or len(targets) != 2:
            raise ValueError(f'PredictorHead scores two views against each other, got '
                             f'{len(online)} projections and {len(targets)} targets')
        pred_1, pred_2 = (F.normalize(self(z), dim=1) for z in online)
        target_1, target_2 = (F.normalize(t.detach(), dim=1) for t in targets)
        return self.loss_head.loss(pred_1, target_2) + self.loss_head.loss(pred_2, target_1)


@MODELS.register_module()
class CosineRegressionHead(nn.Module):
    """A cosine loss between predictions and targets, averaged over the batch.

    Args:
        loss: ``'normalized_l2'``, BYOL's ``2 - 2 cos(p, z)``, or ``'negative_cosine'``,
            SimSiam's ``-cos(p, z)``.
        loss_weight: a factor on the loss (SimSiam's 1/2 per view order).
    """

    LOSSES = dict(normalized_l2=normalized_l2, negative_cosine=negative_cosine_similarity)

    def __init__(self, loss: str = 'normalized_l2', loss_weight: float = 1.0) -> None:
        super().__init__()
        if loss not in self.LOSSES:
            raise ValueError(f'CosineRegressionHead loss must be one of {sorted(self.LOSSES)}, '
                             f'got {loss!r}')
        self.loss_name, self.loss_weight = loss, loss_weight

    def loss(self, pred: Tensor, target: Tensor) -> Tensor:
        """pred, target: (N, D); the target is not detached here."""
        return self.loss_weight * self.LOSSES[self.loss_name](pred, target)

    def extra_repr(self) -> str:
        return f'loss={self.loss_name!r}, loss_weight={self.loss_weight}'
