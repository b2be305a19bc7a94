import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook

from mmssl.registry import HOOKS
from mmssl.utils.atomic_io import atomic_write_text, publish_file


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` whose saves cannot leave a broken checkpoint.

    mmengine writes a checkpoint straight under its final name and removes the oldest
    one (``max_keep_ckpts``) before the new one is written: a crash during a save can
    leave ``last_checkpoint`` naming a deleted or half-written file. Here, on a local
    disk:

    1. the checkpoint is written to a hidden temporary file in the same folder, flushed
       (fsync) and renamed to its final name;
    2. then ``last_checkpoint`` is replaced the same way;
    3. only then are checkpoints beyond ``max_keep_ckpts`` removed.

    A save that fails (e.g. ENOSPC on a full disk) removes its partial temporary file,
    keeps the previous checkpoint, its pointer and the kept list as they were, and raises
    an ``OSError`` (same errno) naming the file it could not write and the intact one.

    Other storage backends keep mmengine's behaviour. Arguments are ``CheckpointHook``'s.
    """

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        if not isinstance(self.file_backend, LocalBackend):
            return super()._save_checkpoint_with_step(runner, step, meta)
        previous = (getattr(self, 'last_ckpt', None), list(getattr(self, 'keep_ckpt_ids', ())))
        outdated = []
        if self.max_keep_ckpts > 0 and (not self.keep_ckpt_ids
                                        or self.keep_ckpt_ids[-1] != step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            # (in the message hub before the save, as mmengine's hook does: the
            # checkpoint carries it, and a resumed run's hook reads it back)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = osp.join(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        tmp_path = osp.join(self.out_dir, f'.{filename}.tmp')
        try:
            runner.save_checkpoint(self.out_dir, osp.basename(tmp_path), self.file_client_args,
                                   save_optimizer=self.save_optimizer,
                                   save_param_scheduler=self.save_param_scheduler,
                                   meta=meta, by_epoch=self.by_epoch,
                                   backend_args=self.backend_args, **self.args)
            if is_main_process():
                publish_file(tmp_path, self.last_ckpt)
        except OSError as error:
            if osp.isfile(tmp_path):
                os.remove(tmp_path)  # free what the partial file took
            failed, (self.last_ckpt, kept) = self.last_ckpt, previous
            if self.max_keep_ckpts > 0:
                self.keep_ckpt_ids.clear()
                self.keep_ckpt_ids.extend(kept)
                runner.message_hub.update_info('keep_ckpt_ids', kept)
            runner.message_hub.update_info('last_ckpt', self.last_ckpt)
            raise OSError(error.errno,
                          f'could not write the checkpoint {failed}: {error.strerror or error}. '
                          f'The previous checkpoint ({self.last_ckpt or "none yet"}) and '
                          f'last_checkpoint are intact: once the cause is fixed (e.g. disk '
                          f'space freed), resume from it with --resume') from error
        if not is_main_process():
            return
        atomic_write_text(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        for old_step in outdated:
            old_path = osp.join(self.out_dir, self.filename_tmpl.format(old_step))
            if osp.isfile(old_path) and old_path != self.last_ckpt:
                self.file_backend.remove(old_path)
