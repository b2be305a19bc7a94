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
    the student (``momentum_backbone``/``momentum_neck``, m from ``base_momentum`` to 1 on
    a cosine of the iteration, driven by ``MomentumUpdateHook``), sees the global views
    only. :class:`DINOHead` has each student view predict the centred teacher softmax of
    every other global view, and updates the centre.

    The teacher temperature warms up linearly per epoch, from
    ``warmup_teacher_temperature`` at epoch 0 to ``teacher_temperature`` at epoch
    ``warmup_teacher_temperature_epochs - 1`` (``EpochScheduleHook`` passes the epoch
    through :meth:`set_epoch`). The teacher runs without dropout and stochastic depth, as
    the paper builds it (its BN layers, if any, stay in training mode). Freezing the last
    layer over the first epoch is ``FreezeParametersHook``'s job, through
    :meth:`cancel_frozen_gradients`.

    Args:
        backbone: the student backbone (a ViT, or a ResNet).
        neck: a :class:`DINONeck`; the teacher's is its EMA copy.
        head: a :class:`DINOHead`.
        num_crops: (global, local) views per image, global views first in the pipeline.
        base_momentum: the teacher's m at the start (0.996); it rises to 1 (cosine).
        teacher_temperature: tau_t after the warm-up (0.04 to 0.07 in the paper).
        warmup_teacher_temperature: tau_t at epoch 0 (0.04).
        warmup_teacher_temperature_epochs: the warm-up's length in epochs (30); 0: none.
        data_preprocessor, channels_last, init_cfg, online_probe: as
            :class:`BaseSelfSupervisor` (the probe reads the student's backbone output for
            the first view, at no extra cost).
    """

    def __init__(self,
                 backbone: ModuleCfg,
                 neck: ModuleCfg,
                 head: ModuleCfg,
                 num_crops: Sequence[int] = (2, 10),
                 base_momentum: float = 0.996,
                 teacher_temperature: float = 0.07,
                 warmup_teacher_temperature: float = 0.04,
                 warmup_teacher_temperature_epochs: int = 30,
                 data_preprocessor: Optional[ModuleCfg] = None,
                 channels_last: bool = False,
                 init_cfg: Optional[Union[dict, list]] = None,
                 online_probe: Optional[ModuleCfg] = None) -> None:
        if base_momentum is None:
            raise ValueError('DINO needs a teacher: base_momentum must be a number (0.996)')
        super().__init__(backbone, neck, head, base_momentum=base_momentum,
                         momentum_schedule='cosine', final_momentum=1.0,
                         data_preprocessor=data_preprocessor, channels_last=channels_last,
                         init_cfg=init_cfg, online_probe=online_probe)
        if len(num_crops) != 2 or num_crops[0] < 2:
            raise ValueError(f'num_crops must be (global, local) with at least two global '
                             f'views, got {tuple(num_crops)}')
        self.num_crops = tuple(num_crops)
        self.teacher_temperature = teacher_temperature
        self.warmup_teacher_temperature = warmup_teacher_temperature
        self.warmup_teacher_temperature_epochs = warmup_teacher_temperature_epochs
        self._epoch: Optional[int] = None

    def set_epoch(self, epoch: int) -> None:
        """The training epoch that starts (``EpochScheduleHook``): sets tau_t."""
        self._epoch = epoch

    def teacher_temperature_at(self, epoch: int) -> float:
        """tau_t at ``epoch``: linear warm-up over the first epochs, then constant."""
        warmup = self.warmup_teacher_temperature_epochs
        if epoch >= warmup:
            return self.teacher_temperature
        if warmup == 1:
            return self.warmup_teacher_temperature
        return self.warmup_teacher_temperature + (
            self.teacher_temperature - self.warmup_teacher_temperature) * epoch / (warmup - 1)

    def cancel_frozen_gradients(self) -> None:
        """Drop the gradients of the student's last layer, so the optimizer skips it.

        ``FreezeParametersHook`` calls it between backward and the optimizer step during
        the first epoch, as the paper does.
        """
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
        teacher_temperature = self.teacher_temperature_at(self._training_epoch())
        loss = self.head.loss(student, teacher.chunk(num_global), teacher_temperature)
        # Logged with the loss (a key without 'loss' is not added to it); new_full is a
        # fill on the device, where new_tensor would copy from the host and sync.
        return dict(loss=loss, teacher_temperature=loss.new_full((), teacher_temperature))

    def _training_epoch(self) -> int:
        if self._epoch is None:
            if self.warmup_teacher_temperature_epochs > 0 and self.training:
                raise RuntimeError(
                    'DINO warms the teacher temperature up by epoch: add '
                    "custom_hooks = [dict(type='EpochScheduleHook')] to the config "
                    '(or call model.set_epoch(epoch) before each epoch)')
            return self.warmup_teacher_temperature_epochs
        return self._epoch
