"""Celery tasks of the card import: thin wrappers over the pipeline.

card_batch_import_task is safe to run twice (the batch lease and the per-chunk check make a
second run a no-op), so it acknowledges late and is re-queued if its worker dies. The sweeper
(every CARD_IMPORT_SWEEP_SECONDS) re-queues batches whose run died.
"""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction

from healthbook.cards import pipeline

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
        outcome = pipeline.card_batch_run(batch_id=batch_id, budget_seconds=pipeline.task_budget_seconds())
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
def card_batches_sweep_task() -> list[int]:
    """Re-queue the batches whose run died; a run of each is queued once that has committed."""
    ids = pipeline.card_batches_requeue_stale()
    for batch_id in ids:
        transaction.on_commit(lambda batch_id=batch_id: card_batch_import_task.delay(batch_id))
    return ids
