from typing import Callable, Iterable, Optional

import torch
from torch import Tensor
from torch.optim import Optimizer

from mmssl.registry import OPTIMIZERS


@OPTIMIZERS.register_module()
class LARS(Optimizer):
    """SGD with layer-wise adaptive rate scaling (You et al. 2017), without host syncs.

    The same update, arguments and state as mmpretrain's ``LARS``, which it replaces in
    the ``mmssl`` scope (``type='LARS'``): per parameter tensor p with gradient g,

        trust = eta * |p| / (|g| + weight_decay * |p| + eps)   (1 if |p| or |g| is 0,
                                                               or the group has
                                                               ``lars_exclude=True``)
        update = lr * trust * (g + weight_decay * p)

    then SGD momentum (dampening, Nesterov) on ``update`` and ``p -= update``. mmpretrain's
    reads both norms back to the host (``.item()``) for every scaled tensor at every step,
    which drains a GPU's queue 2 x 53 times a step for a ResNet-50's conv weights (2 x 159
    without ``lars_exclude``); here the trust ratio is a 0-d tensor on the parameter's
    device. Optimizer states load in either class.

    Args:
        params: parameters or parameter groups (a group may set ``lars_exclude``).
        lr: base learning rate.
        momentum: momentum factor.
        weight_decay: L2 penalty, added to the gradient before the scaling.
        dampening: dampening of the momentum.
        eta: LARS coefficient (trust ratio scale).
        nesterov: Nesterov momentum (needs momentum > 0 and no dampening).
        eps: added to the trust ratio's denominator.
    """

    def __init__(self, params: Iterable, lr: float, momentum: float = 0,
                 weight_decay: float = 0, dampening: float = 0, eta: float = 0.001,
                 nesterov: bool = False, eps: float = 1e-8) -> None:
        for name, value in (('lr', lr), ('momentum', momentum),
                            ('weight_decay', weight_decay), ('eta', eta)):
            if not value >= 0:
                raise ValueError(f'LARS {name} must be >= 0, got {value}')
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError('LARS nesterov needs momentum > 0 and dampening 0, got '
                             f'momentum={momentum}, dampening={dampening}')
        self.eps = eps
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, eta=eta))

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault('nesterov', False)

    @torch.no_grad()
    def step(self, closure: Optional[Callable[[], Tensor]] = None) -> Optional[Tensor]:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            decay, momentum = group['weight_decay'], group['momentum']
            for param in group['params']:
                if param.grad is None:
                    continue
                update = param.grad.add(param, alpha=decay)
                if group.get('lars_exclude', False):
                    update.mul_(group['lr'])
                else:
                    update.mul_(self._trust_ratio(param, group) * group['lr'])
                if momentum:
                    state = self.state[param]
                    if 'momentum_buffer' not in state:
                        state['momentum_buffer'] = buffer = update.clone()
                    else:
                        buffer = state['momentum_buffer']
                        buffer.mul_(momentum).add_(update, alpha=1 - group['dampening'])
                    update = update.add(buffer, alpha=momentum) if group['nesterov'] else buffer
                param.sub_(update)
        return loss

    def _trust_ratio(self, param: Tensor, group: dict) -> Tensor:
        """0-d tensor on the parameter's device: eta |p| / (|g| + wd |p| + eps), or 1."""
        weight_norm = torch.linalg.vector_norm(param)
        grad_norm = torch.linalg.vector_norm(param.grad)
        ratio = group['eta'] * weight_norm / (grad_norm + group['weight_decay'] * weight_norm
                                              + self.eps)
        return torch.where((weight_norm != 0) & (grad_norm != 0), ratio, 1.0)
