from typing import Optional, Union

import torch.nn.functional as F
from mmpretrain.structures import DataSample
from torch import Tensor

from mmssl.models.memories import NegativeQueue
from mmssl.models.utils.shuffle_bn import forward_in_splits, forward_shuffled
from mmssl.registry import MODELS
from mmssl.utils.dist import concat_all_gather
from .base import ModuleCfg
from .momentum import MomentumSelfSupervisor


@MODELS.register_module()
class MoCo(MomentumSelfSupervisor):
    """MoCo v1 and v2 (He et al. 2020; Chen et al. 2020).

    A query encoder (backbone + neck) trained by InfoNCE against the key of the other
    view, computed by a momentum key encoder with Shuffling BN, and K negatives from a
    FIFO queue of past keys gathered from all ranks. v1 and v2 differ only in their
    configs: v1 a linear neck, τ 0.07, step schedule; v2 an MLP neck, τ 0.2, blur and a
    cosine schedule.

    Args:
        backbone, neck, head: the encoder and an :class:`InfoNCEHead`.
        queue_len: K, a multiple of the global batch size.
        feat_dim: D, the neck's output dimension.
        momentum: m of the key encoder (0.999).
        bn_splits: on a single process, the number of BN groups emulated for Shuffling BN
            (see :mod:`mmssl.models.utils.shuffle_bn`); ignored when distributed.
        data_preprocessor, channels_last, init_cfg: as :class:`BaseSelfSupervisor`.
    """

    def __init__(self,
                 backbone: ModuleCfg,
                 neck: ModuleCfg,
                 head: ModuleCfg,
                 queue_len: int = 65536,
                 feat_dim: int = 128,
                 momentum: float = 0.999,
                 bn_splits: int = 1,
                 data_preprocessor: Optional[ModuleCfg] = None,
                 channels_last: bool = False,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(backbone, neck, head, base_momentum=momentum,
                         data_preprocessor=data_preprocessor, channels_last=channels_last,
                         init_cfg=init_cfg)
        self.queue = NegativeQueue(feat_dim, queue_len)
        self.bn_splits = bn_splits

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: two views (N, C, H, W), the query's first."""
        view_q, view_k = self.split_views(inputs, 2)
        query = F.normalize(forward_in_splits(self.project, view_q, self.bn_splits), dim=1)
        key = F.normalize(forward_shuffled(self.momentum_project, view_k, self.bn_splits),
                          dim=1)
        loss = self.head.loss(query, key, self.queue.snapshot())
        self.queue.enqueue(concat_all_gather(key))
        return dict(loss=loss)
