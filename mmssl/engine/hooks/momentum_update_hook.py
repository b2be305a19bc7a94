import warnings

from mmengine.hooks import Hook
from mmengine.optim import OptimWrapperDict
from mmengine.runner import IterBasedTrainLoop

from mmssl.models.utils.progress import TrainingProgress
from mmssl.registry import HOOKS
from .unwrap import unwrap_model


def training_progress(runner) -> TrainingProgress:
    """Where ``runner``'s training stands: the iteration about to run, its epoch, totals.

    An ``IterBasedTrainLoop`` keeps mmengine's epoch at 0 (and ``max_epochs`` at 1): there
    the epoch is counted from the iterations, one epoch per pass over the training data
    loader (0 if it has no length), and ``max_epochs`` is ``None``.
    """
    if not isinstance(runner.train_loop, IterBasedTrainLoop):
        return TrainingProgress(runner.iter, runner.max_iters, runner.epoch, runner.max_epochs)
    try:
        iters_per_epoch = len(runner.train_dataloader)
    except TypeError:  # an iterable without a length
        iters_per_epoch = 0
    epoch = runner.iter // iters_per_epoch if iters_per_epoch else 0
    return TrainingProgress(runner.iter, runner.max_iters, epoch, None)


@HOOKS.register_module()
class MomentumUpdateHook(Hook):
    """Hands the training progress to the model and runs its per-step updates.

    A default hook of every config (``default_hooks.momentum_update``), so no config lists
    it. For any model, doing nothing where a model lacks the method (SimCLR, MAE):

    - before every training iteration: ``model.set_progress(progress)`` with
      :func:`training_progress` (a resumed run gets the values of its iteration); the
      model's schedules (DINO's teacher temperature, SwAV's queue start, DenseCL's dense
      loss weight, the EMA factor) read it;
    - between backward and each optimizer step (a step pre-hook registered before
      training, on every optimizer of an ``OptimWrapperDict``; after the DDP all-reduce
      and gradient clipping, as the papers' code): ``model.cancel_frozen_gradients()``,
      which drops the gradients of what the model keeps frozen at that progress (SwAV's
      prototypes, DINO's last layer);
    - after every training iteration: ``model.ema_update()``, the EMA of the target
      (key/teacher) networks; the factor m is logged as ``train/ema_momentum``.

    A second instance (an older config that still lists it in ``custom_hooks``) does
    nothing, so the EMA runs once per step.
    """

    priority = 'NORMAL'

    def __init__(self) -> None:
        self._handles: list = []
        self._active = True

    def before_train(self, runner) -> None:
        first = next(hook for hook in runner.hooks if isinstance(hook, MomentumUpdateHook))
        self._active = first is self
        if not self._active:
            warnings.warn('MomentumUpdateHook is registered twice (it is a default hook: '
                          'remove it from custom_hooks); the second one does nothing')
            return
        model = unwrap_model(runner.model)
        cancel = getattr(model, 'cancel_frozen_gradients', None)
        if cancel is None:
            return

        def before_step(optimizer, args, kwargs) -> None:
            cancel()

        wrappers = (runner.optim_wrapper.values()
                    if isinstance(runner.optim_wrapper, OptimWrapperDict)
                    else [runner.optim_wrapper])
        self._handles = [w.optimizer.register_step_pre_hook(before_step) for w in wrappers]

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        set_progress = getattr(unwrap_model(runner.model), 'set_progress', None)
        if self._active and set_progress is not None:
            set_progress(training_progress(runner))

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        ema_update = getattr(unwrap_model(runner.model), 'ema_update', None)
        if not self._active or ema_update is None:
            return
        momentum = ema_update()
        if momentum is not None:  # None: the model has no target network to move
            runner.message_hub.update_scalar('train/ema_momentum', momentum)

    def after_train(self, runner) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
