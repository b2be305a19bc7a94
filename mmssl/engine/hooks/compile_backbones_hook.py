from mmengine.hooks import Hook

from mmssl.registry import HOOKS
from .unwrap import unwrap_model


@HOOKS.register_module()
class CompileBackbonesHook(Hook):
    """Before training, ``torch.compile`` the model's backbones in place:
    ``model.compile_backbones(**options)`` (online and momentum/teacher backbones; the
    heads, losses and queue updates stay eager). Checkpoint keys do not change.

    Args:
        options: passed to ``torch.compile``, e.g. ``mode='max-autotune'``.
    """

    priority = 'VERY_LOW'

    def __init__(self, **options) -> None:
        self.options = options

    def before_train(self, runner) -> None:
        model = unwrap_model(runner.model)
        if not hasattr(model, 'compile_backbones'):
            raise TypeError(f'CompileBackbonesHook: {type(model).__name__} has no '
                            f'compile_backbones(**options) method')
        names = model.compile_backbones(**self.options)
        runner.logger.info(f'torch.compile: {", ".join(names)} ({self.options or "defaults"})')
