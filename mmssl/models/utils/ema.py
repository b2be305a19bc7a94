"""The one EMA convention of mmssl (docs/contributing.md, convention 2).

``target = m * target + (1 - m) * online``, with ``m`` the paper's momentum (0.999 for
MoCo). A cosine schedule of ``m`` takes ``max_iters`` explicitly.
"""
import math

import torch
from torch import nn


@torch.no_grad()
def ema_update_(target: nn.Module, online: nn.Module, momentum: float) -> None:
    """In place, for every parameter: ``target = momentum * target + (1 - momentum) * online``.

    Buffers (BN running statistics) are left alone: the target network keeps the
    statistics of its own forward passes, as in MoCo and BYOL.
    """
    target_params = list(target.parameters())
    online_params = list(online.parameters())
    if len(target_params) != len(online_params):
        raise ValueError(f'EMA needs two networks of the same structure, got '
                         f'{len(target_params)} and {len(online_params)} parameters')
    # Evaluated as written (m*t, then + (1-m)*o), so the result is bitwise the formula.
    torch._foreach_mul_(target_params, momentum)
    torch._foreach_add_(target_params, torch._foreach_mul(online_params, 1 - momentum))


def cosine_momentum(base: float, final: float, it: int, max_iters: int) -> float:
    """Momentum at iteration ``it`` of ``max_iters``, from ``base`` to ``final`` (BYOL).

    ``m(it) = final - (final - base) * (cos(pi * it / max_iters) + 1) / 2``.
    """
    if max_iters <= 0:
        raise ValueError(f'cosine momentum needs max_iters > 0, got {max_iters}')
    progress = min(max(it / max_iters, 0.0), 1.0)
    return final - (final - base) * (math.cos(math.pi * progress) + 1) / 2
