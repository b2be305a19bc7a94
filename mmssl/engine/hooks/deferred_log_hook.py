import math
from typing import Optional

import torch
from mmengine.hooks import LoggerHook, RuntimeInfoHook
from mmengine.optim import OptimWrapperDict

from mmssl.registry import HOOKS
from mmssl.utils.errors import NonFiniteLossError


@HOOKS.register_module()
class DeferredRuntimeInfoHook(RuntimeInfoHook):
    """mmengine's ``RuntimeInfoHook`` that reads the step's scalars off the device only
    every ``interval`` iterations, and stops on a NaN/Inf loss.

    mmengine's hook turns every logged tensor into a Python number after each step
    (``Tensor.item()``), which makes the host wait for the device every iteration. This
    one keeps the detached scalars on the device, stacks them and reads them in one
    transfer every ``interval`` iterations, at the end of an epoch and at the last
    iteration; they then enter the message hub in order, so the logged means are exactly
    mmengine's. Python numbers are recorded at once.

    Args:
        interval: iterations between two reads; by default the ``LoggerHook``'s interval
            (so every logged line sees all its values), 1 without a logger.
        stop_on_nonfinite: raise :class:`NonFiniteLossError` naming the iteration, the
            loss and the last checkpoint when a value whose name contains ``loss`` is not
            finite (found within one interval). A step that the optimizer wrapper skipped
            (``skip_nonfinite=True``, see ``SkipNonFiniteMixin``) does not stop training:
            its non-finite losses are left out of the log, ``skipped_steps`` counts it.
    """

    priority = 'VERY_HIGH'

    def __init__(self, interval: Optional[int] = None, stop_on_nonfinite: bool = True) -> None:
        super().__init__()
        if interval is not None and interval < 1:
            raise ValueError(f'DeferredRuntimeInfoHook: interval must be >= 1, got {interval}')
        self.interval = interval
        self.stop_on_nonfinite = stop_on_nonfinite
        self._pending: list[tuple[int, str, torch.Tensor]] = []

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if self.interval is None:
            loggers = [hook for hook in runner.hooks if isinstance(hook, LoggerHook)]
            self.interval = loggers[0].interval if loggers else 1

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        for key, value in (outputs or {}).items():
            if isinstance(value, torch.Tensor):
                self._pending.append((runner.iter, key, value.detach().reshape(())))
            else:
                runner.message_hub.update_scalar(f'train/{key}', value)
        if (self.every_n_train_iters(runner, self.interval)
                or self.end_of_epoch(runner.train_dataloader, batch_idx)
                or self.is_last_train_iter(runner)):
            self.flush(runner)

    def after_train_epoch(self, runner) -> None:
        self.flush(runner)
        super().after_train_epoch(runner)

    def flush(self, runner) -> None:
        """Read the pending scalars (one device-to-host copy) into the message hub."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        values = torch.stack([value.to(torch.float64) for _, _, value in pending]).tolist()
        skipped = _skipped_iters(getattr(runner, 'optim_wrapper', None))
        for (it, key, _), value in zip(pending, values):
            if 'loss' in key and not math.isfinite(value) and it in skipped:
                continue
            if self.stop_on_nonfinite and 'loss' in key and not math.isfinite(value):
                last = runner.message_hub.get_info('last_ckpt')
                raise NonFiniteLossError(
                    f'{key} is {value} at iteration {it + 1}; training stopped. Last '
                    f'checkpoint: {last or "none written yet"} (resume from it with '
                    f'--resume, perhaps with a lower lr or a warm-up)')
            runner.message_hub.update_scalar(f'train/{key}', value)


def _skipped_iters(optim_wrapper) -> set:
    """The iterations whose step the runner's optimizer wrapper(s) skipped."""
    wrappers = (optim_wrapper.values() if isinstance(optim_wrapper, OptimWrapperDict)
                else [optim_wrapper])
    return {it for wrapper in wrappers for it in getattr(wrapper, 'skipped_iters', ())}
