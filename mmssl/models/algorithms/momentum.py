import copy
from typing import Optional, Union

from torch import Tensor, nn

from mmssl.models.utils.ema import cosine_momentum, ema_update_
from .base import BaseSelfSupervisor, ModuleCfg


class MomentumSelfSupervisor(BaseSelfSupervisor):
    """Base of the algorithms with a momentum (EMA) copy of backbone and neck.

    ``momentum_backbone``/``momentum_neck`` start as copies of ``backbone``/``neck``,
    receive no gradient, and follow them through :meth:`ema_update`, which
    ``MomentumUpdateHook`` (a default hook of every config) calls after every training
    iteration. The EMA factor m comes from the training progress (:meth:`set_progress`):
    ``ema_momentum_at(progress.iter, progress.max_iters)``; with no progress set (a model
    called by hand) m is ``ema_momentum``.

    Args:
        ema_momentum: m at the start (0.999 for MoCo); ``target = m*target + (1-m)*online``.
            ``None``: no target network at all (MoCo's end-to-end and memory-bank
            mechanisms); :meth:`ema_update` is then a no-op returning ``None``.
        ema_schedule: ``'constant'`` (MoCo) or ``'cosine'`` (BYOL, DINO: m rises from
            ``ema_momentum`` to ``ema_momentum_end`` over ``max_iters``).
        ema_momentum_end: m at the end of a cosine schedule.
        Others: as :class:`BaseSelfSupervisor`.
    """

    def __init__(self,
                 backbone: ModuleCfg,
                 neck: Optional[ModuleCfg] = None,
                 head: Optional[ModuleCfg] = None,
                 ema_momentum: Optional[float] = 0.999,
                 ema_schedule: str = 'constant',
                 ema_momentum_end: float = 1.0,
                 data_preprocessor: Optional[ModuleCfg] = None,
                 channels_last: bool = False,
                 init_cfg: Optional[Union[dict, list]] = None,
                 online_probe: Optional[ModuleCfg] = None) -> None:
        super().__init__(backbone, neck, head, data_preprocessor, channels_last, init_cfg,
                         online_probe)
        if ema_schedule not in ('constant', 'cosine'):
            raise ValueError(f"ema_schedule must be 'constant' or 'cosine', "
                             f'got {ema_schedule!r}')
        if ema_momentum is not None and not 0.0 <= ema_momentum <= 1.0:
            raise ValueError(f'ema_momentum must be in [0, 1] (the paper momentum, '
                             f'e.g. 0.999), got {ema_momentum}')
        self.ema_momentum = ema_momentum
        self.ema_momentum_end = ema_momentum_end
        self.ema_schedule = ema_schedule
        has_target = ema_momentum is not None
        self.momentum_backbone = (copy.deepcopy(self.backbone).requires_grad_(False)
                                  if has_target else None)
        self.momentum_neck = (copy.deepcopy(self.neck).requires_grad_(False)
                              if has_target and self.neck is not None else None)

    def momentum_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        """(online, target) module pairs that the EMA updates (none without a target)."""
        if self.momentum_backbone is None:
            return []
        pairs = [(self.backbone, self.momentum_backbone)]
        if self.neck is not None:
            pairs.append((self.neck, self.momentum_neck))
        return pairs

    def init_weights(self) -> None:
        """Initialise the online networks, then make the targets exact copies of them."""
        super().init_weights()
        for online, target in self.momentum_pairs():
            target.load_state_dict(online.state_dict())

    def ema_momentum_at(self, it: int, max_iters: int) -> float:
        """The EMA factor m for (0-based) iteration ``it`` of ``max_iters``."""
        if self.ema_schedule == 'constant':
            return self.ema_momentum
        return cosine_momentum(self.ema_momentum, self.ema_momentum_end, it, max_iters)

    def ema_update(self) -> Optional[float]:
        """EMA of every target towards its online network at the training progress.

        Returns the m used (``None`` without a target network).
        """
        if self.ema_momentum is None:
            return None
        progress = self.training_progress
        momentum = (self.ema_momentum if progress is None
                    else self.ema_momentum_at(progress.iter, progress.max_iters))
        for online, target in self.momentum_pairs():
            ema_update_(target, online, momentum)
        return momentum

    def momentum_project(self, x: Tensor) -> Tensor:
        """(N, D) the target networks' projection of ``x``, as :meth:`project` does."""
        return self._project(self.momentum_backbone, self.momentum_neck, x)
