import os
import os.path as osp

from mmengine.hooks import Hook

from mmssl.datasets.transforms.loading import SKIPPED_IMAGES_ENV
from mmssl.registry import HOOKS
from mmssl.utils.errors import TooManyBadImagesError


@HOOKS.register_module()
class BadImageReportHook(Hook):
    """Counts the images skipped by ``LoadImageFromFile(on_error='skip')``, lists them in
    the log at each epoch end, and stops training above ``max_skipped``.

    The loader workers append each skipped file to ``<log_dir>/skipped_images.txt``
    (named to them through an environment variable set before they start); this hook
    reads that file every ``interval`` iterations and at each epoch end.

    Args:
        max_skipped: the most skipped images a run tolerates (all epochs together).
        interval: iterations between two checks of the threshold.
    """

    priority = 'LOW'

    def __init__(self, max_skipped: int = 100, interval: int = 50) -> None:
        if max_skipped < 0 or interval < 1:
            raise ValueError(f'BadImageReportHook needs max_skipped >= 0 and interval >= 1, '
                             f'got {max_skipped}, {interval}')
        self.max_skipped, self.interval = max_skipped, interval
        self.log_file, self.reported = '', 0

    def before_train(self, runner) -> None:
        self.log_file = osp.join(runner.log_dir, 'skipped_images.txt')
        open(self.log_file, 'a').close()
        os.environ[SKIPPED_IMAGES_ENV] = self.log_file

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval):
            self._check(runner, self._skipped())

    def after_train_epoch(self, runner) -> None:
        skipped = self._skipped()
        new = skipped[self.reported:]
        runner.logger.info(
            f'epoch {runner.epoch}: {len(new)} images skipped ({len(skipped)} in this run, '
            f'at most {self.max_skipped} allowed; list: {self.log_file})'
            + ''.join(f'\n  {line}' for line in new))
        self.reported = len(skipped)
        self._check(runner, skipped)

    def after_run(self, runner) -> None:
        os.environ.pop(SKIPPED_IMAGES_ENV, None)

    def _skipped(self) -> list[str]:
        with open(self.log_file) as f:
            return [line.rstrip('\n') for line in f if line.strip()]

    def _check(self, runner, skipped: list[str]) -> None:
        if len(skipped) > self.max_skipped:
            raise TooManyBadImagesError(
                f'{len(skipped)} images were skipped as undecodable, more than '
                f'max_skipped={self.max_skipped} (BadImageReportHook); the files are listed '
                f'in {self.log_file}. Fix or remove them, or raise max_skipped.')
