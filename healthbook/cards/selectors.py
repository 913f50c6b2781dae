"""Reads with rules on card batches: progress (for the bar and the API) and the rejected rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from core.spreadsheet import neutralise_formula
from healthbook.cards.problems import message_for
from healthbook.models import CardBatch, CardBatchProblem


@dataclass(frozen=True)
class BatchProgress:
    percent: int | None
    rate: float | None  # rows per second in the current (or last) run
    seconds_left: int | None


def card_batch_progress(batch: CardBatch) -> BatchProgress:
    """Percentage, rate and time left from the counters (no query)."""
    total = batch.rows_estimated
    if batch.status == CardBatch.Status.DONE:
        return BatchProgress(100, None, 0)
    percent = min(99, int(100 * batch.rows_read / total)) if total else None
    rate = None
    left = None
    if batch.shards and total:
        # A sharded batch is read (and staged) first, then merged by its shards: half each.
        return BatchProgress(min(99, int(50 * (batch.rows_read + batch.rows_merged) / total)), None, None)
    if batch.status == CardBatch.Status.RUNNING and batch.run_started_at and batch.heartbeat_at:
        elapsed = (batch.heartbeat_at - batch.run_started_at).total_seconds()
        done = batch.rows_read - batch.run_started_rows
        if elapsed > 0 and done > 0:
            rate = done / elapsed
            if total and total > batch.rows_read:
                left = int((total - batch.rows_read) / rate)
    return BatchProgress(percent, rate, left)


def card_batch_is_stalled(batch: CardBatch) -> bool:
    return bool(
        batch.status == CardBatch.Status.RUNNING
        and batch.heartbeat_at
        and timezone.now() - batch.heartbeat_at > timedelta(seconds=60)
    )


REJECTED_CSV_HEADER = ["line", "column", "value", "code", "reason"]


def card_batch_rejected_csv(batch: CardBatch) -> Iterator[str]:
    """Stream the rejected rows as CSV (UTF-8 with BOM so that Excel shows Vietnamese)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(REJECTED_CSV_HEADER)
    yield "\ufeff" + buffer.getvalue()
    rows = (
        CardBatchProblem.objects.filter(batch=batch)
        .order_by("line", "id")
        .values_list("line", "column", "value", "code")
        .iterator(chunk_size=5000)
    )
    for line, column, value, code in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([line, neutralise_formula(column), neutralise_formula(value), code, str(message_for(code))])
        yield buffer.getvalue()
