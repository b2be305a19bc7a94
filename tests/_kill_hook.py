"""A test-only hook that SIGKILLs the training process, for the resume tests."""
import os
import signal

from mmengine.hooks import Hook

from mmssl.registry import HOOKS


@HOOKS.register_module()
class KillAfterEpochHook(Hook):
    """Kill the process (no cleanup, like a crash) once epoch ``epoch`` is done and saved."""

    priority = 'LOWEST'  # after the checkpoint hook

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def after_train_epoch(self, runner) -> None:
        if runner.epoch + 1 == self.epoch:
            os.kill(os.getpid(), signal.SIGKILL)
