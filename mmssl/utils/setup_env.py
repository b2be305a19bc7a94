import contextlib
import datetime
import logging
from collections.abc import Iterator

from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope

# What mmdet logs at import when mmcv has no compiled ops (the demo's set-up): its
# lane-detection head needs a CUDA op, and it says so as if the whole package were broken.
# mmpretrain's models import mmdet's, so every run would print it; mmssl uses no such head.
LITE_MMCV_NOTICES = ('Line NMS is not compiled',)


class _DropNotices(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(LITE_MMCV_NOTICES)


@contextlib.contextmanager
def without_lite_mmcv_notices() -> Iterator[None]:
    """Drop :data:`LITE_MMCV_NOTICES` from the current mmengine logger meanwhile."""
    logger, notices = MMLogger.get_current_instance(), _DropNotices()
    logger.addFilter(notices)
    try:
        yield
    finally:
        logger.removeFilter(notices)


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every mmssl module that registers something and, if asked, make ``mmssl``
    the current default scope, so that unprefixed ``type=`` names resolve through
    mmssl's registries (then mmpretrain's, then mmengine's).
    """
    with without_lite_mmcv_notices():
        import mmpretrain.models  # noqa: F401  (imports mmdet's models)
        import mmssl.datasets  # noqa: F401
        import mmssl.engine  # noqa: F401
        import mmssl.evaluation  # noqa: F401
        import mmssl.models  # noqa: F401

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created('mmssl'):
        DefaultScope.get_instance('mmssl', scope_name='mmssl')
    elif current.scope_name != 'mmssl':
        # An instance name must be new: make one for this switch back to mmssl.
        stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S%f')
        DefaultScope.get_instance(f'mmssl-{stamp}', scope_name='mmssl')
