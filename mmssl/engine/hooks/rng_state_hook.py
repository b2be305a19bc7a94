import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook

from mmssl.registry import HOOKS


def capture_rng_state() -> dict:
    """The states of Python's ``random``, numpy's global generator, torch's CPU generator
    and every CUDA device's."""
    state = dict(python=random.getstate(), numpy=np.random.get_state(),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Saves the global random generators' states in each checkpoint and puts them back
    on resume, so the resumed run draws the numbers the uninterrupted one would have.

    Two states are saved: the one at the save, and the one at the start of the current
    epoch. On a resume in the middle of an epoch, the epoch-start state is restored
    before the epoch's data loader starts (its worker seeds come from it), and the saved
    state before the first step trained after the resume. (mmengine re-seeds on resume,
    so without this the random stream would restart from the run's start. Generators
    owned by modules, such as the data preprocessor's, are in the model's state dict.)
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._epoch_start: Optional[dict] = None
        self._resumed: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['rng_state'] = dict(now=capture_rng_state(), epoch=runner.epoch,
                                       epoch_start=self._epoch_start)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if runner._resume and checkpoint.get('rng_state'):  # not for load_from
            self._resumed = checkpoint['rng_state']

    def before_train_epoch(self, runner) -> None:
        resumed = self._resumed
        if resumed is not None:
            if resumed['epoch'] == runner.epoch and resumed['epoch_start'] is not None:
                restore_rng_state(resumed['epoch_start'])  # saved in the middle of this epoch
            else:  # saved at the end of the previous epoch
                restore_rng_state(resumed['now'])
                self._resumed = None
        self._epoch_start = capture_rng_state()

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._restore_resumed_state()

    def after_train_epoch(self, runner) -> None:
        self._restore_resumed_state()  # the resumed epoch had no step left

    def _restore_resumed_state(self) -> None:
        if self._resumed is not None:
            restore_rng_state(self._resumed['now'])
            self._resumed = None
