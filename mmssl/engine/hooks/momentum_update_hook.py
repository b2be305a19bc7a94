from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmssl.registry import HOOKS


@HOOKS.register_module()
class MomentumUpdateHook(Hook):
    """After every training iteration, move the target (key/teacher) networks towards
    the online ones: ``model.momentum_update(runner.iter, runner.max_iters)``.

    Works with any model that has a public ``momentum_update(it, max_iters)`` method
    (:class:`~mmssl.models.algorithms.MomentumSelfSupervisor`); the current momentum is
    logged as ``train/momentum``.
    """

    priority = 'NORMAL'

    def before_train(self, runner) -> None:
        if not hasattr(self._model(runner), 'momentum_update'):
            raise TypeError(f'MomentumUpdateHook: {type(self._model(runner)).__name__} has no '
                            f'momentum_update(it, max_iters) method')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        momentum = self._model(runner).momentum_update(runner.iter, runner.max_iters)
        if momentum is not None:  # None: the model has no target network to move
            runner.message_hub.update_scalar('train/momentum', momentum)

    @staticmethod
    def _model(runner):
        return runner.model.module if is_model_wrapper(runner.model) else runner.model
