from typing import Optional, Union

import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample
from torch import Tensor

from mmssl.models.memories import ContrastDictionary, check_neck_output_dim
from mmssl.models.utils.shuffle_bn import (DEFAULT_BN_SPLITS, forward_in_splits,
                                           forward_shuffled, use_split_bn)
from mmssl.registry import MODELS
from .base import ModuleCfg, build_module
from .momentum import MomentumSelfSupervisor


@MODELS.register_module()
class MoCo(MomentumSelfSupervisor):
    """Instance discrimination with InfoNCE, with a swappable dictionary of keys.

    A query encoder (backbone + neck) is trained by InfoNCE: the query of the first view
    against a positive key and K negatives. Where the keys come from is the
    ``dictionary`` part (see :mod:`mmssl.models.memories.contrast_dictionaries`), the
    three mechanisms the MoCo paper compares:

    - ``QueueKeys`` (MoCo v1/v2, He et al. 2020; Chen et al. 2020): the second view's key
      by a momentum key encoder with Shuffling BN, negatives from a FIFO queue;
    - ``InBatchKeys`` (end-to-end): the key by the query encoder itself, with gradients
      and Shuffling BN, negatives the other keys of the batch;
    - ``MemoryBankKeys`` (NPID, Wu et al. 2018): positive and negatives from a per-image
      memory bank; the second view is not used.

    MoCo v1 and v2 differ only in their configs: v1 a linear neck, τ 0.07, step
    schedule; v2 an MLP neck, τ 0.2, blur and a cosine schedule.

    Args:
        backbone, neck, head: the query encoder and an :class:`InfoNCEHead`.
        dictionary: the dictionary part, e.g. ``dict(type='QueueKeys', queue_length=65536)``.
        ema_momentum: m of the momentum key encoder's EMA (0.999), required by a
            dictionary whose ``key_encoder`` is ``'momentum'`` and refused by the others
            (``None``).
        bn_splits: Shuffling BN on one process (see :mod:`mmssl.models.utils.shuffle_bn`):
            the encoders' BN layers normalise ``bn_splits`` groups of the batch apart, as
            on ``bn_splits`` GPUs, and keys are computed on the batch reordered across the
            groups. Default 8, the paper's 8 GPUs. It must divide the per-process batch
            (else a ValueError); 1 turns Shuffling BN off. Ignored with several processes,
            where each rank's batch is one BN group and keys are shuffled across ranks.
        data_preprocessor, channels_last, init_cfg, online_probe: as
            :class:`BaseSelfSupervisor`.
    """

    def __init__(self,
                 backbone: ModuleCfg,
                 neck: ModuleCfg,
                 head: ModuleCfg,
                 dictionary: ModuleCfg,
                 ema_momentum: Optional[float] = None,
                 bn_splits: int = DEFAULT_BN_SPLITS,
                 data_preprocessor: Optional[ModuleCfg] = None,
                 channels_last: bool = False,
                 init_cfg: Optional[Union[dict, list]] = None,
                 online_probe: Optional[ModuleCfg] = None) -> None:
        dictionary = build_module(dictionary)
        if not isinstance(dictionary, ContrastDictionary):
            raise TypeError(f'model.dictionary must be a ContrastDictionary (QueueKeys, '
                            f'InBatchKeys, MemoryBankKeys), got {type(dictionary).__name__}')
        uses_momentum = dictionary.key_encoder == 'momentum'
        if uses_momentum != (ema_momentum is not None):
            raise ValueError(
                f'model.ema_momentum={ema_momentum} does not fit model.dictionary '
                f'{type(dictionary).__name__}: set it (e.g. 0.999) for QueueKeys, which has '
                f'a momentum key encoder, and leave it None for the other dictionaries')
        super().__init__(backbone, neck, head, ema_momentum=ema_momentum,
                         data_preprocessor=data_preprocessor, channels_last=channels_last,
                         init_cfg=init_cfg, online_probe=online_probe)
        if dictionary.dim is not None:
            check_neck_output_dim(self.neck, dictionary.dim, 'model.dictionary.dim')
        self.dictionary = dictionary
        self.bn_splits = use_split_bn(self, bn_splits)

    def encode_key(self, view: Tensor) -> Optional[Tensor]:
        """(N, D) the normalised key of ``view`` by the dictionary's key encoder, or None."""
        if self.dictionary.key_encoder == 'momentum':
            with torch.no_grad():
                key = forward_shuffled(self.momentum_project, view, self.bn_splits, self)
        elif self.dictionary.key_encoder == 'online':
            key = forward_shuffled(self.project, view, self.bn_splits, self)
        else:
            return None
        return F.normalize(key, dim=1)

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: two views (N, C, H, W), the query's first; data_samples carry
        ``sample_idx`` when the dictionary needs it (memory bank)."""
        view_q, view_k = self.split_views(inputs, 2)
        sample_idx = None
        if self.dictionary.needs_sample_idx:
            if not data_samples or 'sample_idx' not in data_samples[0]:
                raise ValueError(f'{type(self.dictionary).__name__} needs the dataset index '
                                 f'of each image: pack sample_idx in the data samples '
                                 f'(PackInputs does by default)')
            sample_idx = torch.as_tensor([s.sample_idx for s in data_samples],
                                         device=view_q.device)
        query = F.normalize(forward_in_splits(self.project, view_q, self.bn_splits, self),
                            dim=1)
        key = self.encode_key(view_k)
        positive, negatives = self.dictionary.lookup(query, key, sample_idx)
        loss = self.head.loss(query, positive, negatives)
        self.dictionary.update(query, key, sample_idx)
        return dict(loss=loss)


@MODELS.register_module()
class Exemplar(MoCo):
    """Exemplar: instance discrimination by a triplet (ranking) loss over the batch, as
    Doersch & Zisserman (2017) train the exemplar task (after Dosovitskiy et al. 2014).

    :class:`MoCo` with its end-to-end parts as defaults: the query encoder computes the
    second view's key (``InBatchKeys``), the other images of the global batch are the
    negatives, and the loss is :class:`TripletRankingHead`'s
    ``max(0, D(q, k+) − D(q, k−) + margin)`` with the cosine distance D, averaged over
    every (query, in-batch negative) pair. Any other dictionary or head can still be set.

    Args:
        backbone, neck: the encoder.
        head: the loss head (default ``TripletRankingHead``, margin 0.5).
        dictionary: where the keys come from (default ``InBatchKeys``).
        **kwargs: as :class:`MoCo`.
    """

    def __init__(self, backbone: ModuleCfg, neck: ModuleCfg,
                 head: Optional[ModuleCfg] = None, dictionary: Optional[ModuleCfg] = None,
                 **kwargs) -> None:
        super().__init__(backbone, neck,
                         head or dict(type='TripletRankingHead', margin=0.5),
                         dictionary or dict(type='InBatchKeys'), **kwargs)
