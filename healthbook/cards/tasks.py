"""Celery tasks of the card import: thin wrappers over the pipeline.

card_batch_import_task is safe to run twice (the batch lease and the per-chunk check make a
second run a no-op), so it acknowledges late and is re-queued if its worker dies. A sharded
batch (CARD_IMPORT_SHARDS > 0, healthbook.cards.shards) is read and staged by that task, which
then queues one card_shard_merge_task per shard; a shard run is just as safe to run twice (the
shard lease and its last_line). The sweeper (every CARD_IMPORT_SWEEP_SECONDS) re-queues batches
and shard runs that died.
"""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction

from healthbook.cards import pipeline, runs, shards

logger = logging.getLogger(__name__)


def _dispatch_shards(batch_id: int, numbers: list[int]) -> None:
    for shard in numbers:
        card_shard_merge_task.delay(batch_id, shard)


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
        outcome = runs.card_batch_run(
            batch_id=batch_id, budget_seconds=pipeline.task_budget_seconds(), dispatch=_dispatch_shards
        )
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:  # noqa: BLE001 — a bug must not loop through the sweeper forever
        logger.exception("card batch %s failed", batch_id)
        pipeline.batch_fail_unexpected(batch_id=batch_id, message=f"{type(exc).__name__}: {exc}")
        return pipeline.FAILED
    if outcome == pipeline.YIELDED:
        card_batch_import_task.delay(batch_id)
    return outcome


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=120,
    max_retries=10,
)
def card_shard_merge_task(batch_id: int, shard: int) -> str:
    try:
        outcome = shards.shard_run(
            batch_id=batch_id, shard=shard, budget_seconds=pipeline.task_budget_seconds(), dispatch=_dispatch_shards
        )
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:  # noqa: BLE001 — as card_batch_import_task
        logger.exception("card batch %s shard %s failed", batch_id, shard)
        pipeline.batch_fail_unexpected(batch_id=batch_id, message=f"{type(exc).__name__}: {exc}")
        return pipeline.FAILED
    if outcome == pipeline.YIELDED:
        card_shard_merge_task.delay(batch_id, shard)
    elif outcome == pipeline.REREAD:  # its range was not whole records: the batch's run reads the file
        card_batch_import_task.delay(batch_id)
    return outcome


@shared_task
def card_batches_sweep_task() -> list[int]:
    """Re-queue the batches and shard runs whose run died; a run of each is queued once that has committed."""
    ids = pipeline.card_batches_requeue_stale()
    for batch_id in ids:
        transaction.on_commit(lambda batch_id=batch_id: card_batch_import_task.delay(batch_id))
    for batch_id, shard in shards.card_shards_requeue_stale():
        transaction.on_commit(lambda batch_id=batch_id, shard=shard: card_shard_merge_task.delay(batch_id, shard))
    return ids
