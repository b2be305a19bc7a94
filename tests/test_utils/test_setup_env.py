import logging

from mmengine.logging import MMLogger

from mmssl.utils.setup_env import without_lite_mmcv_notices


def test_mmdets_lite_mmcv_notice_is_dropped_meanwhile_and_other_messages_kept():
    logger = MMLogger.get_current_instance()
    seen = []
    handler = logging.Handler(level=logging.DEBUG)
    handler.emit = lambda record: seen.append(record.getMessage())
    logger.addHandler(handler)
    try:
        with without_lite_mmcv_notices():
            logger.warning('Line NMS is not compiled. Most likely when installing ...')
            logger.warning('a real warning')
        logger.warning('Line NMS is not compiled.')
    finally:
        logger.removeHandler(handler)
    assert seen == ['a real warning', 'Line NMS is not compiled.']
