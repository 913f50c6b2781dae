"""Celery tasks of the intake: process a stored submission, sweep the ones left behind.

The receiving service rings the doorbell (`submission_enqueue`) once the bytes are committed;
a lost message only delays a submission until the sweeper finds it.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from healthbook.intake import processing

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=10,
    time_limit=300,
    soft_time_limit=280,
)
def submission_process_task(submission_id: int) -> str | None:
    """Process one submission. Safe to run twice: the claim lets one run in, and the merge is
    keyed by (facility, MA_LK) with a content hash."""
    return processing.submission_process(submission_id=submission_id)


@shared_task
def submissions_sweep_task() -> list[int]:
    """Queue again the submissions left in received or processing too long."""
    ids = processing.submissions_stale()
    for pk in ids:
        submission_enqueue(pk)
    return ids


def submission_enqueue(submission_id: int) -> None:
    """Queue the processing of a stored submission (or run it here: INTAKE_PROCESS_INLINE, demo
    and tests)."""
    if getattr(settings, "INTAKE_PROCESS_INLINE", False):
        processing.submission_process(submission_id=submission_id)
        return
    try:
        submission_process_task.delay(submission_id)
    except Exception:  # noqa: BLE001 — the broker is a doorbell: the sweeper finds the row later
        logger.exception("could not queue submission %s; the sweeper will", submission_id)
