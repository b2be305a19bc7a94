from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmssl.registry import HOOKS


@HOOKS.register_module()
class LossWeightWarmupHook(Hook):
    """Hold a loss of the model at weight 0 for the first ``start_iters`` iterations.

    Before every training iteration it calls ``model.set_loss_warmup_factor(f)`` with
    ``f`` in [0, 1] computed from ``runner.iter``: 0 before ``start_iters``, then 1 at
    once (``ramp_iters=0``, DenseCL's schedule: its dense loss is off for the first 1000
    iterations) or rising linearly over ``ramp_iters`` iterations. The model decides
    which loss the factor scales (DenseCL: the dense loss weight λ, so its global loss
    gets the weight 1 - fλ). A resumed run gets the factor of its iteration. The factor
    is logged as ``train/loss_warmup_factor``.

    Args:
        start_iters: iterations at factor 0.
        ramp_iters: iterations of the linear rise to 1 after them (0: a step).
    """

    priority = 'NORMAL'

    def __init__(self, start_iters: int = 1000, ramp_iters: int = 0) -> None:
        if start_iters < 0 or ramp_iters < 0:
            raise ValueError(f'LossWeightWarmupHook needs start_iters >= 0 and ramp_iters '
                             f'>= 0, got {start_iters} and {ramp_iters}')
        self.start_iters, self.ramp_iters = start_iters, ramp_iters

    def factor_at(self, it: int) -> float:
        """The warm-up factor for (0-based) training iteration ``it``."""
        if it < self.start_iters:
            return 0.0
        if self.ramp_iters == 0:
            return 1.0
        return min(1.0, (it - self.start_iters + 1) / self.ramp_iters)

    def before_train(self, runner) -> None:
        if not hasattr(self._model(runner), 'set_loss_warmup_factor'):
            raise TypeError(f'LossWeightWarmupHook: {type(self._model(runner)).__name__} has '
                            f'no set_loss_warmup_factor(factor) method')

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        factor = self.factor_at(runner.iter)
        self._model(runner).set_loss_warmup_factor(factor)
        runner.message_hub.update_scalar('train/loss_warmup_factor', factor)

    @staticmethod
    def _model(runner):
        return runner.model.module if is_model_wrapper(runner.model) else runner.model
