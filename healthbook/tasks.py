"""Celery tasks of the health book app: thin wrappers over the card-import services.

card_batch_import_task is safe to run twice (the batch lease and the per-chunk check make a
second run a no-op), so it acknowledges late and is re-queued if its worker dies.
"""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from healthbook.cards import pipeline
from healthbook.cards.services import card_batches_sweep, task_budget_seconds

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=120,
    max_retries=10,
)
def card_batch_import_task(batch_id: int) -> str:
    try:
        outcome = pipeline.card_batch_run(batch_id=batch_id, budget_seconds=task_budget_seconds())
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:  # noqa: BLE001 — a bug must not loop through the sweeper forever
        logger.exception("card batch %s failed", batch_id)
        pipeline.batch_fail_unexpected(batch_id=batch_id, message=f"{type(exc).__name__}: {exc}")
        return pipeline.FAILED
    if outcome == pipeline.YIELDED:
        card_batch_import_task.delay(batch_id)
    return outcome


@shared_task
def card_batches_sweep_task() -> int:
    return len(card_batches_sweep())


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
    from healthbook.intake.services import submission_process

    return submission_process(submission_id=submission_id)


@shared_task
def submissions_sweep_task() -> int:
    from healthbook.intake.services import submissions_sweep

    return len(submissions_sweep())
