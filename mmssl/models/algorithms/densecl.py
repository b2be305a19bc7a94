import math
from functools import partial
from typing import NamedTuple, Optional, Union

import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from mmssl.models.memories import QueueKeys, check_neck_output_dim, rename_state_prefixes
from mmssl.models.utils.progress import delayed_warmup_factor
from mmssl.models.utils.shuffle_bn import (DEFAULT_BN_SPLITS, forward_in_splits,
                                           forward_shuffled, use_split_bn)
from mmssl.registry import MODELS
from .base import ModuleCfg
from .momentum import MomentumSelfSupervisor


class DenseEncoding(NamedTuple):
    """One encoder's outputs for N images; L = S*S locations of the backbone's last map."""

    backbone_map: Tensor  # (N, C, S, S) the backbone's last output
    global_proj: Tensor  # (N, D) the global MLP of the pooled map
    dense_proj: Tensor  # (N, D, L) the 1x1-conv MLP at every location
    pooled_dense: Tensor  # (N, D) dense_proj averaged over the locations


@torch.no_grad()
def match_locations(query_map: Tensor, key_map: Tensor) -> Tensor:
    """DenseCL's correspondence: for each query location, the most similar key location.

    Args:
        query_map, key_map: (N, C, L) backbone features of two views of N images at L
            locations.

    Returns:
        (N, L) long: for image n and query location l, the key location m maximising the
        cosine similarity of ``query_map[n, :, l]`` and ``key_map[n, :, m]``.
    """
    similarity = torch.einsum('ncl,ncm->nlm', F.normalize(query_map, dim=1),
                              F.normalize(key_map, dim=1))
    return similarity.argmax(dim=2)


@MODELS.register_module()
class DenseCL(MomentumSelfSupervisor):
    """DenseCL (Wang et al. CVPR 2021): MoCo v2 with a dense contrastive branch.

    Query encoder: backbone + ``DenseCLNeck`` (mmpretrain), whose global MLP projects the
    pooled last map and whose 1x1-conv MLP projects every location of it. Key encoder:
    their momentum copy (EMA, :meth:`ema_update`), with Shuffling BN. Two
    queues of negatives, each a :class:`QueueKeys` as MoCo's (same lookup and update):
    ``global_keys`` holds the global keys, ``dense_keys`` the dense keys pooled over the
    locations of each image, as in the authors' code.

    - Global loss: InfoNCE of the query against the other view's key and the global
      queue, as MoCo v2.
    - Dense loss: each query location is matched to the key location whose backbone
      feature is the most similar (:func:`match_locations`); InfoNCE of its dense
      projection against that location's dense key and the dense queue, averaged over
      the N*L locations.
    - Total: ``(1 - λ) * global + λ * dense``, both through the same head (τ 0.2).

    The authors keep λ at 0 for the first 1000 iterations: λ in use is ``loss_lambda``
    times a warm-up factor of the training progress (:meth:`set_progress`), 0 before
    ``dense_loss_start_iter``, then 1 (at once, or over ``dense_loss_ramp_iters``); with
    no progress set (a model called by hand) it is ``loss_lambda``. It is logged as
    ``dense_weight``. The first view's backbone map is handed to the online probe, if
    any, so the probe costs no extra forward.

    Args:
        backbone: a CNN whose last output is a map (N, C, S, S).
        neck: a ``DenseCLNeck`` with ``num_grid=None`` (the dense grid is the backbone's).
        head: an :class:`InfoNCEHead`.
        queue_length: K of each queue, a multiple of the global batch size.
        feat_dim: D, the neck's output dimension (``neck.out_channels``).
        ema_momentum: m of the key encoder's EMA (0.999).
        loss_lambda: λ, the weight of the dense loss.
        dense_loss_start_iter: the iteration from which the dense loss counts (1000);
            λ is 0 before it.
        dense_loss_ramp_iters: iterations of a linear rise of λ to ``loss_lambda`` from
            ``dense_loss_start_iter`` on (0: a step, the authors').
        bn_splits: Shuffling BN on one process, as :class:`MoCo`'s (default 8, the
            paper's 8 GPUs; a divisor of the per-process batch; 1 turns it off; ignored
            with several processes).
        online_probe, data_preprocessor, channels_last, init_cfg: as
            :class:`BaseSelfSupervisor`.
    """

    def __init__(self,
                 backbone: ModuleCfg,
                 neck: ModuleCfg,
                 head: ModuleCfg,
                 queue_length: int = 65536,
                 feat_dim: int = 128,
                 ema_momentum: float = 0.999,
                 loss_lambda: float = 0.5,
                 dense_loss_start_iter: int = 1000,
                 dense_loss_ramp_iters: int = 0,
                 bn_splits: int = DEFAULT_BN_SPLITS,
                 online_probe: Optional[ModuleCfg] = None,
                 data_preprocessor: Optional[ModuleCfg] = None,
                 channels_last: bool = False,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(backbone, neck, head, ema_momentum=ema_momentum,
                         data_preprocessor=data_preprocessor, channels_last=channels_last,
                         init_cfg=init_cfg, online_probe=online_probe)
        if not 0.0 <= loss_lambda <= 1.0:
            raise ValueError(f'DenseCL loss_lambda must be in [0, 1], got {loss_lambda}')
        if dense_loss_start_iter < 0 or dense_loss_ramp_iters < 0:
            raise ValueError(f'DenseCL needs dense_loss_start_iter >= 0 and '
                             f'dense_loss_ramp_iters >= 0, got {dense_loss_start_iter} and '
                             f'{dense_loss_ramp_iters}')
        check_neck_output_dim(self.neck, feat_dim, 'model.feat_dim')
        self.global_keys = QueueKeys(queue_length, feat_dim, length_key='model.queue_length')
        self.dense_keys = QueueKeys(queue_length, feat_dim, length_key='model.queue_length')
        self.loss_lambda = loss_lambda
        self.dense_loss_start_iter = dense_loss_start_iter
        self.dense_loss_ramp_iters = dense_loss_ramp_iters
        self.bn_splits = use_split_bn(self, bn_splits)

    @property
    def dense_loss_weight(self) -> float:
        """λ in use: ``loss_lambda`` times the warm-up factor of the training progress."""
        progress = self.training_progress
        if progress is None:
            return self.loss_lambda
        return self.loss_lambda * delayed_warmup_factor(
            progress.iter, self.dense_loss_start_iter, self.dense_loss_ramp_iters)

    @staticmethod
    def _encode(backbone: nn.Module, neck: nn.Module, x: Tensor) -> DenseEncoding:
        backbone_map = backbone(x)[-1]
        global_proj, dense_proj, pooled_dense = neck((backbone_map, ))
        return DenseEncoding(backbone_map, global_proj, dense_proj, pooled_dense)

    def encode_query(self, view: Tensor) -> DenseEncoding:
        """The query encoder's outputs (unnormalised), BN per ``bn_splits`` group."""
        return forward_in_splits(partial(self._encode, self.backbone, self.neck), view,
                                 self.bn_splits, self)

    @torch.no_grad()
    def encode_key(self, view: Tensor) -> DenseEncoding:
        """The key encoder's outputs (unnormalised), with Shuffling BN."""
        return forward_shuffled(partial(self._encode, self.momentum_backbone,
                                        self.momentum_neck), view, self.bn_splits, self)

    def contrastive_losses(self, query: DenseEncoding, key: DenseEncoding,
                           global_negatives: Tensor, dense_negatives: Tensor
                           ) -> dict[str, Tensor]:
        """The weighted global and dense losses of the query view against the key view.

        Args:
            query, key: the two encoders' outputs for the two views of the same N images.
            global_negatives, dense_negatives: (K, D) L2-normalised negatives.

        Returns:
            ``loss_global`` (1 - λ) * InfoNCE, ``loss_dense`` λ * dense InfoNCE and
            ``dense_weight`` λ (logged, not a loss).
        """
        num_locations = query.dense_proj.shape[2]
        if math.prod(query.backbone_map.shape[2:]) != num_locations:
            raise ValueError(
                f'DenseCL matches the {num_locations} dense projections of an image by '
                f'the backbone map of shape {tuple(query.backbone_map.shape[2:])}; they '
                f'must have the same locations: set the neck\'s num_grid=None')
        loss_global = self.head.loss(F.normalize(query.global_proj, dim=1),
                                     F.normalize(key.global_proj, dim=1), global_negatives)

        match = match_locations(query.backbone_map.flatten(2), key.backbone_map.flatten(2))
        query_dense = F.normalize(query.dense_proj, dim=1)  # (N, D, L)
        key_dense = F.normalize(key.dense_proj, dim=1)
        dim = key_dense.shape[1]
        matched_key = key_dense.gather(2, match[:, None, :].expand(-1, dim, -1))
        loss_dense = self.head.loss(query_dense.transpose(1, 2).reshape(-1, dim),
                                    matched_key.transpose(1, 2).reshape(-1, dim),
                                    dense_negatives)
        weight = self.dense_loss_weight
        # new_full: a fill on the device, no copy from the host.
        return dict(loss_global=(1 - weight) * loss_global, loss_dense=weight * loss_dense,
                    dense_weight=loss_dense.new_full((), weight))

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: two views (N, C, H, W), the query's first."""
        view_q, view_k = self.split_views(inputs, 2)
        query = self.encode_query(view_q)
        self.set_probe_features(query.backbone_map)
        key = self.encode_key(view_k)
        global_key = F.normalize(key.global_proj, dim=1)
        pooled_dense_key = F.normalize(key.pooled_dense, dim=1)
        # QueueKeys reads neither the query nor sample indices: MoCo's calls, with None.
        _, global_negatives = self.global_keys.lookup(None, global_key, None)
        _, dense_negatives = self.dense_keys.lookup(None, pooled_dense_key, None)
        losses = self.contrastive_losses(query, key, global_negatives, dense_negatives)
        self.global_keys.update(None, global_key, None)
        self.dense_keys.update(None, pooled_dense_key, None)
        return losses

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args, **kwargs) -> None:
        # Checkpoints of the layout before QueueKeys: global_queue.keys, dense_queue.ptr...
        rename_state_prefixes(state_dict, prefix, {'global_queue.': 'global_keys.queue.',
                                                   'dense_queue.': 'dense_keys.queue.'})
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
