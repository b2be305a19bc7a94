from mmengine.runner import EpochBasedTrainLoop as MMEngineEpochBasedTrainLoop

from mmssl.registry import LOOPS


@LOOPS.register_module()
class EpochBasedTrainLoop(MMEngineEpochBasedTrainLoop):
    """mmengine's ``EpochBasedTrainLoop`` that resumes exactly in the middle of an epoch.

    Resumed from a checkpoint saved after iteration i of epoch e (iteration-interval
    checkpoints), mmengine's loop trains the whole of epoch e again, so that epoch holds
    more steps than in an uninterrupted run. This one draws the epoch's batches in the
    same order (the sampler is seeded by the epoch) and skips the ones already trained,
    then goes on: the run continues as if never stopped. Registered under mmengine's name
    in the ``mmssl`` scope, so every mmssl config uses it.
    """

    def run_epoch(self) -> None:
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        trained = self._iter - self._epoch * len(self.dataloader)  # > 0 after a resume
        for idx, data_batch in enumerate(self.dataloader):
            if idx >= trained:
                self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1
