from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from mmssl.models.memories import FIFOQueue, check_neck_output_dim, rename_state_prefixes
from mmssl.models.utils.multi_crop import forward_by_resolution
from mmssl.registry import MODELS
from mmssl.utils.dist import concat_all_gather, get_world_size
from .base import BaseSelfSupervisor, ModuleCfg


@MODELS.register_module()
class SwAV(BaseSelfSupervisor):
    """SwAV (Caron et al. 2020): swapped prediction of online cluster codes, multi-crop.

    All views go through the backbone (once per resolution, see
    :func:`~mmssl.models.utils.multi_crop.forward_by_resolution`) and the projection neck
    (mmpretrain's ``SwAVNeck``: fc-BN-ReLU-fc, L2-normalised); the head scores every
    projection against K L2-normalised prototypes. Codes of the global views come from
    Sinkhorn-Knopp over the global batch (no gradient), and every other view predicts
    them (:meth:`SwAVHead.loss`).

    Prototypes are L2-normalised before each training forward, and stay frozen over the
    first ``freeze_prototypes_iters`` iterations (:meth:`cancel_frozen_gradients`).

    Projection queues (small batches): ``projection_queues`` holds one
    :class:`FIFOQueue` per global view, that view's last ``queue_length`` projections of
    the global batch (L2-normalised neck outputs, not negatives). From the epoch
    ``queue_start_epoch`` on each step enqueues them; once a queue is full its scores
    join the Sinkhorn equipartition (:meth:`SwAVHead.codes`). Queue scores only shape the
    codes: they get no code and no gradient.

    Both schedules read the training progress (:meth:`set_progress`, before every
    training iteration). With no progress set (a model called by hand) the prototypes
    are not frozen and, in training mode, the queue is in use.

    Args:
        backbone, neck: the encoder and projection (``SwAVNeck``).
        head: a :class:`SwAVHead`.
        num_crops: (global, local) views per image, global views first in the pipeline.
        queue_length: the length of each queue, a multiple of the global batch; 0: no
            queue.
        queue_start_epoch: the epoch from which the queues are filled (15 in the paper).
        freeze_prototypes_iters: iterations with the prototypes frozen (313 at batch 4096
            in the paper: one epoch); 0: none.
        data_preprocessor, channels_last, init_cfg, online_probe: as
            :class:`BaseSelfSupervisor` (the probe reads the first view's backbone output
            of the multi-crop forward, at no extra cost).
    """

    def __init__(self,
                 backbone: ModuleCfg,
                 neck: ModuleCfg,
                 head: ModuleCfg,
                 num_crops: Sequence[int] = (2, 6),
                 queue_length: int = 0,
                 queue_start_epoch: int = 15,
                 freeze_prototypes_iters: int = 313,
                 data_preprocessor: Optional[ModuleCfg] = None,
                 channels_last: bool = False,
                 init_cfg: Optional[Union[dict, list]] = None,
                 online_probe: Optional[ModuleCfg] = None) -> None:
        super().__init__(backbone, neck, head, data_preprocessor, channels_last, init_cfg,
                         online_probe)
        if len(num_crops) != 2 or num_crops[0] < 1 or sum(num_crops) < 2:
            raise ValueError(f'num_crops must be (global, local) with at least one global '
                             f'view and two views in all, got {tuple(num_crops)}')
        self.num_crops = tuple(num_crops)
        self.queue_start_epoch = queue_start_epoch
        if freeze_prototypes_iters < 0:
            raise ValueError(f'SwAV freeze_prototypes_iters must be >= 0, '
                             f'got {freeze_prototypes_iters}')
        self.freeze_prototypes_iters = freeze_prototypes_iters
        check_neck_output_dim(self.neck, self.head.prototypes.in_features,
                              'model.head.feat_dim')
        self.projection_queues = nn.ModuleList(
            FIFOQueue(self.head.prototypes.in_features, queue_length,
                      length_key='model.queue_length')
            for _ in range(num_crops[0] if queue_length else 0))
        # How many rows of the queues hold real projections (saturates at queue_length).
        self.register_buffer('queue_filled', torch.zeros((), dtype=torch.long))

    def prototypes_frozen(self) -> bool:
        """Whether the prototypes are frozen at the training progress."""
        progress = self.training_progress
        return progress is not None and progress.iter < self.freeze_prototypes_iters

    def cancel_frozen_gradients(self) -> None:
        """Drop the prototypes' gradients while they are frozen, so the optimizer leaves
        them as they are."""
        if self.prototypes_frozen():
            for param in self.head.prototypes.parameters():
                param.grad = None

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: ``sum(num_crops)`` views (N, C, H_v, W_v), the global ones first."""
        views = self.split_views(inputs, sum(self.num_crops))
        num_global, batch = self.num_crops[0], views[0].shape[0]
        self.head.normalize_prototypes()
        feats = forward_by_resolution(self.backbone, views)
        self.set_probe_features(feats[0][-1][:batch])
        z = F.normalize(self.neck(feats), dim=1)  # (V * N, D), view by view
        scores = self.head(z).chunk(len(views))
        use_queue = self._queue_started()
        queue_full = (use_queue
                      and int(self.queue_filled) >= self.projection_queues[0].length)
        codes = [self._codes(index, z[index * batch:(index + 1) * batch], scores[index],
                             use_queue, queue_full) for index in range(num_global)]
        if use_queue:
            self.queue_filled.add_(batch * get_world_size()).clamp_(
                max=self.projection_queues[0].length)
        return dict(loss=self.head.loss(scores, codes))

    @torch.no_grad()
    def _codes(self, view: int, z: Tensor, scores: Tensor, use_queue: bool,
               queue_full: bool) -> Tensor:
        """(n, K) codes of global view ``view``; its projections z (n, D) join its queue."""
        queue = self.projection_queues[view] if use_queue else None
        # The queue as it was before this batch joins it.
        codes = self.head.codes(scores.detach(), queue.keys if queue_full else None)
        if queue is not None:
            queue.enqueue(concat_all_gather(z.detach()))
        return codes

    def _queue_started(self) -> bool:
        if not len(self.projection_queues) or not self.training:
            return False
        progress = self.training_progress
        return progress is None or progress.epoch >= self.queue_start_epoch

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args, **kwargs) -> None:
        # Checkpoints of the layout before projection_queues: queues.0.keys, ...
        rename_state_prefixes(state_dict, prefix, {'queues.': 'projection_queues.'})
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
