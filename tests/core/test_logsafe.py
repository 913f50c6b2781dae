"""Issue 15, point 8: no personal ID reaches a log line, in Django's handlers or the worker's."""

import logging

from celery.signals import after_setup_logger

from core.logsafe import PersonalIdFilter, SingleLineFormatter, mask_personal_ids


def test_id_shaped_numbers_keep_only_their_last_three_digits():
    text = (
        "GET /api/v1/citizens/001204012345/ cmnd 123456789 bhxh 0123456789 card DN4010123456789 "
        "ts 1796000000123 uuid 5f0c1234-aa00-4e00-8000-001204012345x id 42 year 2026"
    )
    masked = mask_personal_ids(text)
    assert "citizens/*********345/" in masked
    assert "******789" in masked and "*******789" in masked
    assert "DN4010123456789" not in masked and "************789" in masked
    # Not ID-shaped: longer digit runs, runs glued to letters, short numbers.
    assert "1796000000123" in masked and "001204012345x" in masked and "id 42 year 2026" in masked


def _record(msg, *args, exc_info=None):
    return logging.LogRecord("x", logging.WARNING, __file__, 1, msg, args, exc_info)


def test_the_filter_masks_arguments_and_tracebacks():
    try:
        raise ValueError("no book for 079123456789")
    except ValueError as exc:
        record = _record("lookup %s failed", "079123456789", exc_info=(type(exc), exc, exc.__traceback__))
    assert PersonalIdFilter().filter(record) is True
    line = SingleLineFormatter("%(message)s").format(record)
    assert "079123456789" not in line
    assert line.count("*********789") >= 2  # the message and the exception (and its source line)


def test_every_configured_handler_masks(caplog):
    from django.conf import settings

    assert "personal_ids" in settings.LOGGING["handlers"]["console"]["filters"]
    logger = logging.getLogger("test.worker")
    handler = logging.StreamHandler()
    logger.addHandler(handler)
    try:
        after_setup_logger.send(
            sender=None, logger=logger, loglevel=logging.INFO, logfile=None, format="", colorize=False
        )
        assert any(isinstance(f, PersonalIdFilter) for f in handler.filters)
    finally:
        logger.removeHandler(handler)
