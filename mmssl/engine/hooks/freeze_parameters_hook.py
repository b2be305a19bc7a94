from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict

from mmssl.registry import HOOKS


@HOOKS.register_module()
class FreezeParametersHook(Hook):
    """Keep the parameters a model names fixed over the first iterations of training.

    SwAV freezes its prototypes and DINO the last layer of its projection head at the
    start: their code sets those gradients to ``None`` after backward, so the optimizer
    step skips them (no update, no weight decay, no momentum). mmengine runs backward and
    the step inside ``model.train_step``, with no hook point in between, so this hook
    registers a step pre-hook on the optimizer (after backward, the DDP all-reduce and
    gradient clipping, as in the papers' code) that calls the model's public
    ``cancel_frozen_gradients()`` while ``runner.iter < iters`` (or
    ``runner.epoch < epochs``).

    Args:
        iters: the number of frozen iterations (SwAV: 313 at batch 4096).
        epochs: or the number of frozen epochs (DINO: 1); give exactly one of the two.
    """

    priority = 'NORMAL'

    def __init__(self, iters: Optional[int] = None, epochs: Optional[int] = None) -> None:
        if (iters is None) == (epochs is None):
            raise ValueError(f'FreezeParametersHook takes exactly one of iters and epochs, '
                             f'got iters={iters}, epochs={epochs}')
        self.iters, self.epochs = iters, epochs
        self._handles: list = []

    def is_frozen(self, runner) -> bool:
        """Whether the current training iteration keeps the parameters fixed."""
        if self.iters is not None:
            return runner.iter < self.iters
        return runner.epoch < self.epochs

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'cancel_frozen_gradients'):
            raise TypeError(f'FreezeParametersHook: {type(model).__name__} has no '
                            f'cancel_frozen_gradients() method')

        def before_step(optimizer, args, kwargs) -> None:
            if self.is_frozen(runner):
                model.cancel_frozen_gradients()

        wrappers = (runner.optim_wrapper.values()
                    if isinstance(runner.optim_wrapper, OptimWrapperDict)
                    else [runner.optim_wrapper])
        self._handles = [w.optimizer.register_step_pre_hook(before_step) for w in wrappers]

    def after_train(self, runner) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
