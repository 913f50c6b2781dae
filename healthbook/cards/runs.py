"""A batch's run: claim the batch, then import it merged as read (pipeline.run_claimed, shards 0)
or read, staged and merged by shards (shards.batch_run, CARD_IMPORT_SHARDS > 0). The number of
shards is fixed on the batch's first run and kept by every later run of that batch."""

from __future__ import annotations

import time
import uuid

from healthbook.cards import pipeline, shards
from healthbook.models import CardBatch, CardBatchShard


def card_batch_run(*, batch_id: int, budget_seconds: float | None = None, dispatch=None) -> str:
    """Import a batch from where it stands. Returns DONE, FAILED, YIELDED (budget used: enqueue
    another run), BUSY (another live run holds it), LOST (taken over while running) or MERGING
    (a sharded batch is staged and `dispatch(batch_id, shard numbers)` queued its shard runs;
    without `dispatch` the shards are merged one after the other in this process)."""
    lease = uuid.uuid4()
    if not pipeline.batch_claim(batch_id=batch_id, lease=lease):
        return pipeline.BUSY
    started = time.monotonic()
    batch = CardBatch.objects.select_related("scope_province").get(pk=batch_id)
    wanted = pipeline.card_import_shards()
    unstarted = batch.rows_read == 0 and not CardBatchShard.objects.filter(batch_id=batch_id).exists()
    if unstarted and batch.staged_at is None and batch.shards != wanted:
        batch.shards = wanted
        CardBatch.objects.filter(pk=batch_id, lease=lease, rows_read=0).update(shards=wanted)
    if batch.shards:
        outcome = shards.batch_run(
            batch=batch, lease=lease, started=started, budget_seconds=budget_seconds, dispatch=dispatch
        )
        if outcome == pipeline.REREAD:  # in this process: the batch is read again, by one reader
            return card_batch_run(batch_id=batch_id, budget_seconds=budget_seconds, dispatch=dispatch)
        return outcome
    return pipeline.run_claimed(batch=batch, lease=lease, started=started, budget_seconds=budget_seconds)
