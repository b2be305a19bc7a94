"""Where training stands, as the algorithms with schedules read it."""
from typing import NamedTuple, Optional


class TrainingProgress(NamedTuple):
    """The training iteration about to run and its epoch, both 0-based.

    ``MomentumUpdateHook`` hands it to the model (``model.set_progress``) before every
    training iteration; a loop of one's own does the same. In an iteration-based loop
    ``epoch`` counts passes over the training data loader and ``max_epochs`` is ``None``.
    """

    iter: int
    max_iters: int
    epoch: int = 0
    max_epochs: Optional[int] = None


def delayed_warmup_factor(it: int, start_iter: int, ramp_iters: int = 0) -> float:
    """A factor in [0, 1] for (0-based) iteration ``it``: 0 before ``start_iter``, then 1
    at once (``ramp_iters=0``) or rising linearly to 1 over ``ramp_iters`` iterations."""
    if it < start_iter:
        return 0.0
    if ramp_iters == 0:
        return 1.0
    return min(1.0, (it - start_iter + 1) / ramp_iters)
