import copy
from typing import Optional, Union

from torch import Tensor, nn

from mmssl.models.utils.ema import cosine_momentum, ema_update_
from .base import BaseSelfSupervisor, ModuleCfg


class MomentumSelfSupervisor(BaseSelfSupervisor):
    """Base of the algorithms with a momentum (EMA) copy of backbone and neck.

    ``momentum_backbone``/``momentum_neck`` start as copies of ``backbone``/``neck``,
    receive no gradient, and follow them through :meth:`momentum_update`, which the
    registered ``MomentumUpdateHook`` calls after every training iteration with the
    runner's iteration and ``max_iters`` (STYLE.md habits 2 and 6).

    Args:
        base_momentum: m at the start (0.999 for MoCo); ``target = m*target + (1-m)*online``.
            ``None``: no target network at all (MoCo's end-to-end and memory-bank
            mechanisms); :meth:`momentum_update` is then a no-op returning ``None``.
        momentum_schedule: ``'constant'`` (MoCo) or ``'cosine'`` (BYOL, DINO: m rises
            from ``base_momentum`` to ``final_momentum`` over ``max_iters``).
        final_momentum: m at the end of a cosine schedule.
        Others: as :class:`BaseSelfSupervisor`.
    """

    def __init__(self,
                 backbone: ModuleCfg,
                 neck: Optional[ModuleCfg] = None,
                 head: Optional[ModuleCfg] = None,
                 base_momentum: Optional[float] = 0.999,
                 momentum_schedule: str = 'constant',
                 final_momentum: float = 1.0,
                 data_preprocessor: Optional[ModuleCfg] = None,
                 channels_last: bool = False,
                 init_cfg: Optional[Union[dict, list]] = None,
                 online_probe: Optional[ModuleCfg] = None) -> None:
        super().__init__(backbone, neck, head, data_preprocessor, channels_last, init_cfg,
                         online_probe)
        if momentum_schedule not in ('constant', 'cosine'):
            raise ValueError(f"momentum_schedule must be 'constant' or 'cosine', "
                             f'got {momentum_schedule!r}')
        if base_momentum is not None and not 0.0 <= base_momentum <= 1.0:
            raise ValueError(f'base_momentum must be in [0, 1] (the paper momentum, '
                             f'e.g. 0.999), got {base_momentum}')
        self.base_momentum = base_momentum
        self.final_momentum = final_momentum
        self.momentum_schedule = momentum_schedule
        has_target = base_momentum is not None
        self.momentum_backbone = (copy.deepcopy(self.backbone).requires_grad_(False)
                                  if has_target else None)
        self.momentum_neck = (copy.deepcopy(self.neck).requires_grad_(False)
                              if has_target and self.neck is not None else None)
        self._iters_since_momentum_update = 0

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

    def momentum_at(self, it: int, max_iters: int) -> float:
        """The momentum m for iteration ``it`` of ``max_iters``."""
        if self.momentum_schedule == 'constant':
            return self.base_momentum
        return cosine_momentum(self.base_momentum, self.final_momentum, it, max_iters)

    def momentum_update(self, it: int, max_iters: int) -> Optional[float]:
        """EMA of every target towards its online network; returns the m used."""
        self._iters_since_momentum_update = 0
        if self.base_momentum is None:
            return None
        momentum = self.momentum_at(it, max_iters)
        for online, target in self.momentum_pairs():
            ema_update_(target, online, momentum)
        return momentum

    def momentum_project(self, x: Tensor) -> Tensor:
        """(N, D) the target networks' projection of ``x``, as :meth:`project` does."""
        return self._project(self.momentum_backbone, self.momentum_neck, x)

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss' and self.training and self.base_momentum is not None:
            # A target that never moves trains silently wrong: fail on the second step.
            if self._iters_since_momentum_update >= 1:
                raise RuntimeError(
                    f'{type(self).__name__}: the momentum encoder was not updated after '
                    f'the last training step; add '
                    f"custom_hooks = [dict(type='MomentumUpdateHook')] to the config "
                    f'(or call model.momentum_update(it, max_iters) after each step)')
            self._iters_since_momentum_update += 1
        return super().forward(inputs, data_samples, mode)
