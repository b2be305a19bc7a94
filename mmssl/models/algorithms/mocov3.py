from mmssl.registry import MODELS
from .base import ModuleCfg
from .byol import BYOL


@MODELS.register_module()
class MoCoV3(BYOL):
    """MoCo v3 (Chen, Xie & He 2021): BYOL's networks with a contrastive loss.

    As in BYOL, the query encoder is backbone -> projector (``neck``) -> predictor (in the
    :class:`PredictorHead`) and the momentum encoder the EMA of backbone + projector,
    here with m rising from 0.99 to 1 (cosine). The loss is contrastive with in-batch
    negatives: ``ctr(q_1, k_2) + ctr(q_2, k_1)`` with the keys of both views from the
    momentum encoder and ``ctr(q, k) = 2 tau * CE(q @ k_all.T / tau, positives)`` over
    the keys ``k_all`` of the global batch, i.e. the head's loss is
    ``InfoNCEHead(temperature=tau, loss_weight=2 * tau)`` (tau 0.2 for ViTs, 1.0 for
    ResNet-50). For ViTs use mmpretrain's ``MoCoV3ViT`` with ``stop_grad_conv1=True``
    (a frozen random patch projection).

    Args:
        ema_momentum: m at the start (0.99); other arguments as :class:`BYOL`.
    """

    def __init__(self,
                 backbone: ModuleCfg,
                 neck: ModuleCfg,
                 head: ModuleCfg,
                 ema_momentum: float = 0.99,
                 **kwargs) -> None:
        super().__init__(backbone, neck, head, ema_momentum=ema_momentum, **kwargs)
