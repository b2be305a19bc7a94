from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmssl.registry import HOOKS


@HOOKS.register_module()
class EpochScheduleHook(Hook):
    """Drives a model's schedules that the paper counts in epochs.

    Before every training epoch (a resumed run included) it calls
    ``model.set_epoch(runner.epoch)``: DINO's teacher temperature warm-up, SwAV's queue
    start. The model computes its values from the epoch itself.
    """

    priority = 'NORMAL'

    def before_train(self, runner) -> None:
        if not hasattr(self._model(runner), 'set_epoch'):
            raise TypeError(f'EpochScheduleHook: {type(self._model(runner)).__name__} has no '
                            f'set_epoch(epoch) method')

    def before_train_epoch(self, runner) -> None:
        self._model(runner).set_epoch(runner.epoch)

    @staticmethod
    def _model(runner):
        return runner.model.module if is_model_wrapper(runner.model) else runner.model
