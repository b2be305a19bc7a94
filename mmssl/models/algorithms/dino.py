from typing import Optional, Sequence, Union

import torch
from mmcv.cnn.bricks import DropPath
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from mmssl.models.utils.multi_crop import forward_by_resolution
from mmssl.registry import MODELS
from .base import ModuleCfg
from .momentum import MomentumSelfSupervisor


@MODELS.register_module()
class DINO(MomentumSelfSupervisor):
    """DINO (Caron et al. 2021): self-distillation with no labels, multi-crop.

    The student (backbone + :class:`DINONeck`) sees all views, once per resolution (see
    :func:`~mmssl.models.utils.multi_crop.forward_by_resolution`); the teacher, an EMA of
    the student (``momentum_backbone``/``momentum_neck``, m from ``ema_momentum`` to 1 on
    a cosine of the iteration), sees the global views only. :class:`DINOHead` has each
    student view predict the centred teacher softmax of every other global view, and
    updates the centre.

    Schedules, from the training progress (:meth:`set_progress`, before every training
    iteration): the teacher temperature warms up linearly per epoch, from
    ``warmup_teacher_temperature`` at epoch 0 to ``teacher_temperature`` at epoch
    ``warmup_teacher_temperature_epochs - 1``; the student's last layer stays frozen
    (:meth:`cancel_frozen_gradients`) over the first ``freeze_last_layer_epochs`` epochs
    and the first ``freeze_last_layer_iters`` iterations. With no progress set (a model
    called by hand) tau_t is ``teacher_temperature``, nothing is frozen and m is
    ``ema_momentum``. The teacher runs without dropout and stochastic depth, as the paper
    builds it (its BN layers, if any, stay in training mode).

    Args:
        backbone: the student backbone (a ViT, or a ResNet).
        neck: a :class:`DINONeck`; the teacher's is its EMA copy.
        head: a :class:`DINOHead`.
        num_crops: (global, local) views per image, global views first in the pipeline.
        ema_momentum: the teacher's m at the start (0.996); it rises to 1 (cosine).
        teacher_temperature: tau_t after the warm-up (0.04 to 0.07 in the paper).
        warmup_teacher_temperature: tau_t at epoch 0 (0.04).
        warmup_teacher_temperature_epochs: the warm-up's length in epochs (30); 0: none.
        freeze_last_layer_epochs: epochs with the last layer frozen (1); 0: none.
        freeze_last_layer_iters: iterations with the last layer frozen (0: none), for runs
            shorter than an epoch's worth of freezing.
        data_preprocessor, channels_last, init_cfg, online_probe: as
            :class:`BaseSelfSupervisor` (the probe reads the student's backbone output for
            the first view, at no extra cost).
    """

    def __init__(self,
                 backbone: ModuleCfg,
                 neck: ModuleCfg,
                 head: ModuleCfg,
                 num_crops: Sequence[int] = (2, 10),
                 ema_momentum: float = 0.996,
                 teacher_temperature: float = 0.07,
                 warmup_teacher_temperature: float = 0.04,
                 warmup_teacher_temperature_epochs: int = 30,
                 freeze_last_layer_epochs: int = 1,
                 freeze_last_layer_iters: int = 0,
                 data_preprocessor: Optional[ModuleCfg] = None,
                 channels_last: bool = False,
                 init_cfg: Optional[Union[dict, list]] = None,
                 online_probe: Optional[ModuleCfg] = None) -> None:
        if ema_momentum is None:
            raise ValueError('DINO needs a teacher: ema_momentum must be a number (0.996)')
        super().__init__(backbone, neck, head, ema_momentum=ema_momentum,
                         ema_schedule='cosine', ema_momentum_end=1.0,
                         data_preprocessor=data_preprocessor, channels_last=channels_last,
                         init_cfg=init_cfg, online_probe=online_probe)
        if len(num_crops) != 2 or num_crops[0] < 2:
            raise ValueError(f'num_crops must be (global, local) with at least two global '
                             f'views, got {tuple(num_crops)}')
        self.num_crops = tuple(num_crops)
        self.teacher_temperature = teacher_temperature
        self.warmup_teacher_temperature = warmup_teacher_temperature
        self.warmup_teacher_temperature_epochs = warmup_teacher_temperature_epochs
        if freeze_last_layer_epochs < 0 or freeze_last_layer_iters < 0:
            raise ValueError(f'DINO needs freeze_last_layer_epochs >= 0 and '
                             f'freeze_last_layer_iters >= 0, got {freeze_last_layer_epochs} '
                             f'and {freeze_last_layer_iters}')
        self.freeze_last_layer_epochs = freeze_last_layer_epochs
        self.freeze_last_layer_iters = freeze_last_layer_iters

    def teacher_temperature_at(self, epoch: int) -> float:
        """tau_t at ``epoch``: linear warm-up over the first epochs, then constant."""
        warmup = self.warmup_teacher_temperature_epochs
        if epoch >= warmup:
            return self.teacher_temperature
        if warmup == 1:
            return self.warmup_teacher_temperature
        return self.warmup_teacher_temperature + (
            self.teacher_temperature - self.warmup_teacher_temperature) * epoch / (warmup - 1)

    def last_layer_frozen(self) -> bool:
        """Whether the student's last layer is frozen at the training progress."""
        progress = self.training_progress
        return progress is not None and (progress.epoch < self.freeze_last_layer_epochs
                                         or progress.iter < self.freeze_last_layer_iters)

    def cancel_frozen_gradients(self) -> None:
        """Drop the gradients of the student's last layer while it is frozen (the first
        epoch in the paper), so the optimizer skips it."""
        if self.last_layer_frozen():
            for param in self.neck.last_layer.parameters():
                param.grad = None

    def train(self, mode: bool = True) -> 'DINO':
        super().train(mode)
        # The teacher: no dropout or stochastic depth (its BN layers follow ``mode``).
        for module in self.momentum_backbone.modules():
            if isinstance(module, (nn.Dropout, DropPath)):
                module.eval()
        return self

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: ``sum(num_crops)`` views (N, C, H_v, W_v), the global ones first."""
        views = self.split_views(inputs, sum(self.num_crops))
        num_global, batch = self.num_crops[0], views[0].shape[0]
        feats = forward_by_resolution(self.backbone, views)
        self.set_probe_features(feats[0][-1][:batch])
        student = self.neck(feats).chunk(len(views))
        with torch.no_grad():
            teacher = self.momentum_neck(
                forward_by_resolution(self.momentum_backbone, views[:num_global]))
        progress = self.training_progress
        teacher_temperature = (self.teacher_temperature if progress is None
                               else self.teacher_temperature_at(progress.epoch))
        loss = self.head.loss(student, teacher.chunk(num_global), teacher_temperature)
        # Logged with the loss (a key without 'loss' is not added to it); new_full is a
        # fill on the device, where new_tensor would copy from the host and sync.
        return dict(loss=loss, teacher_temperature=loss.new_full((), teacher_temperature))
