"""A test-only hook that SIGKILLs the training process, for the resume tests."""
import os
import signal

from mmengine.hooks import Hook

from mmssl.registry import HOOKS


@HOOKS.register_module()
class KillAfterEpochHook(Hook):
    """Kill the process (no cleanup, like a crash) once epoch ``epoch`` is done and saved;
    with ``rank``, only the process of that rank (the others then die with the launcher)."""

    priority = 'LOWEST'  # after the checkpoint hook

    def __init__(self, epoch: int, rank: int | None = None) -> None:
        self.epoch, self.rank = epoch, rank

    def after_train_epoch(self, runner) -> None:
        from mmengine.dist import get_rank
        if self.rank is not None and get_rank() != self.rank:
            return
        if runner.epoch + 1 == self.epoch:
            os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class KillAtIterationHook(Hook):
    """Kill the process (SIGKILL, no cleanup) after iteration ``iteration`` (1-based), or,
    with ``during_save``, in the middle of writing that iteration's checkpoint; with
    ``rank``, only the process of that rank."""

    priority = 'LOWEST'  # after the checkpoint hook

    def __init__(self, iteration: int, during_save: bool = False,
                 rank: int | None = None) -> None:
        self.iteration, self.during_save, self.rank = iteration, during_save, rank

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        from mmengine.dist import get_rank
        if self.rank is not None and get_rank() != self.rank:
            return
        if not self.during_save and runner.iter + 1 == self.iteration:
            os.kill(os.getpid(), signal.SIGKILL)

    def before_save_checkpoint(self, runner, checkpoint) -> None:
        if self.during_save and runner.iter + 1 == self.iteration:
            import mmengine.runner.runner as mmengine_runner

            def half_written_then_killed(checkpoint, filename, *args, **kwargs):
                with open(filename, 'wb') as f:
                    f.write(b'\x80\x02half a checkpoint')
                    f.flush()
                    os.fsync(f.fileno())
                os.kill(os.getpid(), signal.SIGKILL)
            mmengine_runner.save_checkpoint = half_written_then_killed


@HOOKS.register_module()
class DumpModelBuffersHook(Hook):
    """Save this rank's model buffers (queues, memory banks, pointers) to
    ``<work_dir>/buffers_rank<r>.pth`` at the end of the run, to compare ranks."""

    def after_run(self, runner) -> None:
        import torch
        from mmengine.dist import get_rank
        model = getattr(runner.model, 'module', runner.model)
        buffers = {name: value.detach().cpu().clone() for name, value in model.named_buffers()}
        torch.save(buffers, os.path.join(runner.work_dir, f'buffers_rank{get_rank()}.pth'))
