import logging
from collections import deque
from typing import Optional

import torch
from mmengine.dist import all_reduce
from mmengine.logging import MessageHub, print_log
from mmengine.optim import OptimWrapper

from mmssl.registry import OPTIM_WRAPPERS
from mmssl.utils.errors import NonFiniteLossError


def _all_finite(tensors: list) -> torch.Tensor:
    """A 0-d float tensor on the tensors' device, 1 where all of them are finite, else 0.

    The infinity norm (the largest absolute value) cannot overflow and carries NaN and
    Inf through, so one reduction per device tells; no value is read on the host.
    """
    norms = [torch.linalg.vector_norm(t.detach(), float('inf')).float() for t in tensors]
    by_device: dict = {}
    for norm in norms:
        by_device.setdefault(norm.device, []).append(norm)
    flags = [torch.isfinite(torch.stack(group)).all() for group in by_device.values()]
    first = flags[0].device
    return torch.stack([flag.to(first) for flag in flags]).all().float()


class SkipNonFiniteMixin:
    """Skips an optimizer step whose loss or gradients are NaN/Inf, for ``OptimWrapper``
    and its subclasses (put it first in the bases).

    When ``skip_nonfinite`` is on, a step is skipped when any loss given to ``backward``
    since the last step (all micro-steps of a gradient accumulation) or any gradient is
    not finite: the optimizer's ``step`` (and gradient clipping) is not called, so the
    parameters and the optimizer state (momentum buffers, Adam moments, step counts) are
    exactly those before the step; the gradients are then zeroed as usual and training
    goes on. The learning-rate schedule still advances, as with torch's ``GradScaler``.
    What the forward or the hooks update (BN statistics, queues, an EMA teacher) is not
    rolled back; if that turned NaN, the next steps fail too and the limit below stops.

    Why in the optimizer wrapper: the decision falls between backward and the optimizer
    step, both inside ``model.train_step``, where no hook runs; the wrapper is the one
    object that sees the loss (every micro-step of an accumulation), the gradients after
    the DDP all-reduce, and owns the step. A mixin keeps one implementation for
    mmengine's ``OptimWrapper`` (:class:`SkipNonFiniteOptimWrapper`) and
    ``AutocastOptimWrapper``.

    Cost: deciding whether to step needs the flag on the host, so skip mode reads one
    boolean off the device per optimizer step (as ``GradScaler`` does for float16), and
    in distributed training all-reduces it (so every rank takes the same decision even
    where only one rank's loss was not finite). With ``skip_nonfinite=False`` (default)
    nothing is added: no check, no host read; the ``DeferredRuntimeInfoHook`` then stops
    training on a non-finite loss within one logging interval. (Restoring the parameters
    and state after an unconditional step with ``torch.where`` on a device flag would
    avoid the read but needs a copy of every parameter and optimizer state tensor each
    step; the read is the cheaper choice.)

    Skipped steps are counted (saved in the optimizer's checkpoint entry, logged as
    ``skipped_steps``) and each is reported as a warning. More than
    ``max_consecutive_skips`` skips in a row, or more than ``max_skipped_steps`` in all,
    raise :class:`NonFiniteLossError` naming the iteration and the last checkpoint: a run
    that diverged for good stops instead of spinning.

    Args:
        skip_nonfinite: skip non-finite steps instead of stopping (default False).
        max_consecutive_skips: the most steps skipped in a row (default 10).
        max_skipped_steps: the most steps skipped over the whole run (default None: no
            limit but the consecutive one).
    """

    def __init__(self, *args, skip_nonfinite: bool = False, max_consecutive_skips: int = 10,
                 max_skipped_steps: Optional[int] = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        name = type(self).__name__
        if max_consecutive_skips < 0:
            raise ValueError(f'{name}: max_consecutive_skips must be >= 0, got '
                             f'{max_consecutive_skips}')
        if max_skipped_steps is not None and max_skipped_steps < 0:
            raise ValueError(f'{name}: max_skipped_steps must be >= 0 or None, got '
                             f'{max_skipped_steps}')
        self.skip_nonfinite = skip_nonfinite
        self.max_consecutive_skips = max_consecutive_skips
        self.max_skipped_steps = max_skipped_steps
        self.skipped_steps = 0
        self.consecutive_skips = 0
        # 0-based runner iterations of the skipped steps (with gradient accumulation, all
        # those accumulated into them), for DeferredRuntimeInfoHook, which leaves their
        # non-finite losses out of the log instead of stopping.
        self.skipped_iters: deque = deque(maxlen=10000)
        self._loss_finite: Optional[torch.Tensor] = None
        self._accumulated_iters: list = []

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        if self.skip_nonfinite:
            finite = torch.isfinite(loss.detach()).all()
            self._loss_finite = finite if self._loss_finite is None else self._loss_finite & finite
            it = MessageHub.get_current_instance().get_info('iter')
            if it is not None:
                self._accumulated_iters.append(it)
        super().backward(loss, **kwargs)

    def step(self, **kwargs) -> None:
        if not self.skip_nonfinite:
            return super().step(**kwargs)
        loss_finite, self._loss_finite = self._loss_finite, None
        accumulated_iters, self._accumulated_iters = self._accumulated_iters, []
        grads = [p.grad for group in self.optimizer.param_groups for p in group['params']
                 if p.grad is not None]
        flags = ([_all_finite(grads)] if grads else []) + (
            [loss_finite.float()] if loss_finite is not None else [])
        if flags:
            finite = torch.stack([flag.to(flags[0].device) for flag in flags]).min()
            all_reduce(finite, op='min')  # nothing outside distributed training
            if not finite.item():  # the one host read per step of skip mode
                return self._skip(accumulated_iters)
        self.consecutive_skips = 0
        self._log()
        return super().step(**kwargs)

    def _skip(self, accumulated_iters: list) -> None:
        self.skipped_steps += 1
        self.consecutive_skips += 1
        self.skipped_iters.extend(accumulated_iters)
        hub = MessageHub.get_current_instance()
        it = hub.get_info('iter')
        where = f'iteration {it + 1}' if it is not None else f'step {self._inner_count}'
        self._log()
        too_many = (self.consecutive_skips > self.max_consecutive_skips
                    or (self.max_skipped_steps is not None
                        and self.skipped_steps > self.max_skipped_steps))
        if too_many:
            last = hub.get_info('last_ckpt')
            raise NonFiniteLossError(
                f'non-finite loss or gradient at {where}: {self.consecutive_skips} steps '
                f'skipped in a row, {self.skipped_steps} in all (max_consecutive_skips='
                f'{self.max_consecutive_skips}, max_skipped_steps={self.max_skipped_steps}); '
                f'training stopped. Last checkpoint: {last or "none written yet"} (resume '
                f'from it with --resume, perhaps with a lower lr or a warm-up)')
        print_log(f'non-finite loss or gradient at {where}: optimizer step skipped '
                  f'({self.consecutive_skips} in a row, {self.skipped_steps} in all)',
                  logger='current', level=logging.WARNING)

    def _log(self) -> None:
        MessageHub.get_current_instance().update_scalar('train/skipped_steps',
                                                        self.skipped_steps)

    def state_dict(self) -> dict:
        state = super().state_dict()
        if self.skip_nonfinite:
            state['nonfinite_skips'] = dict(total=self.skipped_steps,
                                            consecutive=self.consecutive_skips)
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        skips = state_dict.pop('nonfinite_skips', None)
        if skips is not None:
            self.skipped_steps = skips['total']
            self.consecutive_skips = skips['consecutive']
        super().load_state_dict(state_dict)


@OPTIM_WRAPPERS.register_module()
class SkipNonFiniteOptimWrapper(SkipNonFiniteMixin, OptimWrapper):
    """mmengine's float32 ``OptimWrapper`` that skips steps with a NaN/Inf loss or
    gradient (``skip_nonfinite`` on by default); see :class:`SkipNonFiniteMixin`.

    A separate type rather than an option of mmengine's class, which mmssl does not
    replace. ``AutocastOptimWrapper`` takes the same ``skip_nonfinite=True`` option.

    Args:
        skip_nonfinite, max_consecutive_skips, max_skipped_steps: see the mixin.
        Others: as ``OptimWrapper`` (optimizer, accumulative_counts, clip_grad).
    """

    def __init__(self, *args, skip_nonfinite: bool = True, **kwargs) -> None:
        super().__init__(*args, skip_nonfinite=skip_nonfinite, **kwargs)


__all__ = ['SkipNonFiniteMixin', 'SkipNonFiniteOptimWrapper']
