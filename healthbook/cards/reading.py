"""Phase 1 of a sharded batch (healthbook.cards.shards): the file read, validated and staged.

Every valid row goes into healthbook_card_batch_row with its shard (shard_of), every rejected
row into the batch's problems, chunk by chunk, each chunk one transaction with the progress it
makes. Two ways to read, the same rows staged under the same line numbers with the same counts:

- One reader, the batch's own run (read_serial, under the batch lease): the file from the
  batch's rows_read on. Used for XLSX, UTF-16, a file smaller than CARD_IMPORT_SPLIT_MIN_BYTES,
  a batch of one shard, and a CSV whose readers side by side found a record spanning lines.
- Readers side by side (plan_ranges, then read_range): the batch's run cuts a CSV file into
  as many byte ranges as the batch has shards, at line ends, and creates the shard rows carrying
  them. Each shard's run first reads its range, from the shard's own rows_read on, each chunk
  one transaction that checks the shard's lease. Validation is per row, so nothing but line
  order ties a row to another range: the rules between rows are applied after the last range,
  over the whole staged file (shards.settle). Each reader checks that its range holds whole
  records, one a line (files.RangeInexact); if one does not, everything the readers staged is
  dropped and the batch's run reads the file alone (refuse_ranges).

A run killed while reading resumes at its rows_read (the batch's, or its shard's): exactly once.
"""

from __future__ import annotations

import logging
import time
import uuid
import zlib
from collections import Counter
from itertools import islice

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from healthbook.cards import files, merge, pipeline
from healthbook.cards.pipeline import FAILED, REREAD, YIELDED, BatchFailure, LeaseLost
from healthbook.models import CardBatch, CardBatchShard

logger = logging.getLogger(__name__)

_STAGE_COPY = (
    f"COPY healthbook_card_batch_row (batch_id, shard, {', '.join(merge.STAGE_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
)
_STAGE_TYPES = ("bigint", "smallint", *merge.STAGE_TYPES)


def shard_of(sin: str, shards: int) -> int:
    """The shard of a person: stable across runs, hosts and batches (crc32 of the insurance number)."""
    return zlib.crc32(sin.encode()) % shards


def merge_counts(stored: dict, counts: Counter) -> dict:
    merged = Counter(stored)
    merged.update({k: v for k, v in counts.items() if v})
    return dict(merged)


def _stage(cursor, batch_id: int, shards: int, validated) -> None:
    """COPY a chunk's valid rows, with their shard, and store its rejected rows."""
    valid, rejected = validated[0], validated[1]
    cursor.execute("SET LOCAL synchronous_commit = off")  # as merge.merge_chunk: progress commits with data
    if valid:
        # Binary COPY: psycopg's C dumpers write each value as PostgreSQL stores it, with no text
        # to build on this side or to parse on the server's (1.9 against 3.8 µs a row here, 2.1-2.3
        # against 2.7-2.8 in the backend: bench/cards_reading.py, bench/RESULTS.md, fourteenth
        # session). Reading is CPU-bound on every core it has; a chunk merged as read keeps its
        # text built in the thread (pipeline.py), off that path's critical thread.
        with cursor.copy(_STAGE_COPY) as copy:
            copy.set_types(_STAGE_TYPES)
            for row in valid:
                copy.write_row((batch_id, shard_of(row.sin, shards), *row))
    pipeline._copy_problems(cursor, batch_id, rejected)


def _batch_progress(size: int, validated) -> dict:
    """The batch's counters moved by a staged chunk (F expressions: readers side by side)."""
    valid, _rejected, _counts, warned = validated
    return {
        "rows_read": F("rows_read") + size,
        "rows_accepted": F("rows_accepted") + len(valid),
        "rows_rejected": F("rows_rejected") + size - len(valid),
        "rows_warned": F("rows_warned") + warned,
        "chunks_done": F("chunks_done") + 1,
        "heartbeat_at": timezone.now(),
    }


def _validated_chunks(records, ctx, validator):
    chunk_rows = int(getattr(settings, "CARD_IMPORT_CHUNK_ROWS", 5000))
    while chunk := list(islice(records, chunk_rows)):
        size = len(chunk)
        validated = pipeline.validate_chunk(chunk, ctx, validator)
        del chunk
        yield size, validated


# ---------------------------------------------------------------- one reader


def stage_chunk(*, batch_id: int, lease: uuid.UUID, expected_read: int, size: int, validated) -> int:
    """Stage one validated chunk of `size` records in one transaction with the batch's progress."""
    with transaction.atomic():
        batch = pipeline._locked(batch_id, lease)
        if batch.rows_read != expected_read or batch.staged_at is not None:
            raise LeaseLost(batch_id)
        with connection.cursor() as cursor:
            _stage(cursor, batch_id, batch.shards, validated)
        CardBatch.objects.filter(pk=batch_id).update(
            **_batch_progress(size, validated), problem_counts=merge_counts(batch.problem_counts, validated[2])
        )
    return expected_read + size


def read_serial(*, batch: CardBatch, lease: uuid.UUID, started: float, budget_seconds: float | None) -> str | None:
    """Stage the file from the batch's rows_read on. None when the whole file is staged."""
    return _read(
        batch=batch,
        lease=lease,
        started=started,
        budget_seconds=budget_seconds,
        done=batch.rows_read,
        records=lambda fh, layout, skip: files.iter_cells(fh, layout, skip=skip),
        stage=lambda done, size, validated: stage_chunk(
            batch_id=batch.pk, lease=lease, expected_read=done, size=size, validated=validated
        ),
        release=lambda: pipeline._release(batch.pk, lease),
        fail=lambda code, message: pipeline._fail(batch.pk, lease, code, message),
    )


def _read(*, batch, lease, started, budget_seconds, done, records, stage, release, fail, inexact=None) -> str | None:
    """Validate and stage chunk by chunk from the `done`-th record on (both ways of reading):
    records(fh, layout, skip) gives the cells, stage(done, size, validated) commits one chunk and
    returns the new count, release() hands the run back when the budget is used, fail(code,
    message) ends the batch on a file that cannot be read, inexact() answers a range that does
    not hold whole records. None when everything is staged."""
    try:
        with pipeline._open_stored(batch) as fh:
            layout = pipeline._layout(batch, fh, lease)
            ctx = pipeline.row_context_for(batch, layout)
            validator = pipeline.ChunkValidator(ctx, layout)
            skip = done

            def chunks():
                return _validated_chunks(records(fh, layout, skip), ctx, validator)

            with pipeline.Prefetch(chunks) as validated_chunks:
                for size, validated in validated_chunks:
                    done = stage(done, size, validated)
                    if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                        release()
                        return YIELDED
    except (files.FileRefused, BatchFailure) as exc:
        fail(exc.code, exc.message)
        return FAILED
    except UnicodeDecodeError:
        fail("encoding_invalid", _ENCODING_INVALID)
        return FAILED
    except files.RangeInexact:
        return inexact()
    return None


_ENCODING_INVALID = _("The file is not valid text in the encoding found at upload.")


# ---------------------------------------------------------------- readers side by side


def plan_ranges(*, batch: CardBatch, lease: uuid.UUID) -> bool | str:
    """Cut the file into one byte range per shard and create the shard rows that carry them.
    True when done; False when the file is to be read by one reader; FAILED on a bad file."""
    min_bytes = int(getattr(settings, "CARD_IMPORT_SPLIT_MIN_BYTES", 16 * 1024**2))
    if batch.shards < 2 or batch.size_bytes < min_bytes or batch.read_by_one_reader:
        return False
    try:
        with pipeline._open_stored(batch) as fh:
            layout = pipeline._layout(batch, fh, lease)
            ranges = files.split_csv(fh, layout, size=batch.size_bytes, parts=batch.shards)
    except (files.FileRefused, BatchFailure) as exc:
        pipeline._fail(batch.pk, lease, exc.code, exc.message)
        return FAILED
    if ranges is None:
        return False
    now = timezone.now()
    with transaction.atomic():
        locked = pipeline._locked(batch.pk, lease)
        if locked.rows_read or locked.staged_at is not None:
            raise LeaseLost(batch.pk)
        CardBatchShard.objects.bulk_create(
            [
                CardBatchShard(
                    batch_id=batch.pk,
                    shard=k,
                    read_from=r.start,
                    read_first_line=r.first_line,
                    read_records=r.records,
                    read_done=False,
                    heartbeat_at=now,
                )
                for k, r in enumerate(ranges)
            ]
        )
        CardBatch.objects.filter(pk=batch.pk).update(heartbeat_at=now)
    return True


# A batch whose readers side by side may still stage rows.
_READING_BY_RANGES = Q(status__in=CardBatch.LIVE, staged_at__isnull=True, read_by_one_reader=False)


def stage_range_chunk(
    *, batch_id: int, shard: int, lease: uuid.UUID, shards: int, expected_read: int, size: int, validated
) -> int:
    """Stage one validated chunk of a shard's range in one transaction with the shard's progress
    and the batch's counters (the batch row is locked only for its UPDATE, last)."""
    with transaction.atomic():
        run = (
            CardBatchShard.objects.select_for_update()
            .filter(batch_id=batch_id, shard=shard, lease=lease, status=CardBatchShard.Status.RUNNING)
            .first()
        )
        live = CardBatch.objects.filter(_READING_BY_RANGES, pk=batch_id)
        if run is None or run.read_done or run.rows_read != expected_read or not live.exists():
            raise LeaseLost(batch_id)
        with connection.cursor() as cursor:
            _stage(cursor, batch_id, shards, validated)
        CardBatchShard.objects.filter(pk=run.pk).update(
            rows_read=F("rows_read") + size,
            problem_counts=merge_counts(run.problem_counts, validated[2]),
            heartbeat_at=timezone.now(),
        )
        # Checked again under the batch row's lock: a reader that found its range inexact may have
        # dropped what the readers staged meanwhile (refuse_ranges); this chunk then goes too.
        if not live.update(**_batch_progress(size, validated)):
            raise LeaseLost(batch_id)
    return expected_read + size


def _fail_batch(batch_id: int, code: str, message) -> None:
    """A reader found the file unusable: the batch fails (its other readers then stop)."""
    with transaction.atomic():
        if CardBatch.objects.filter(pk=batch_id, status__in=CardBatch.LIVE).update(
            status=CardBatch.Status.FAILED,
            failure_code=code,
            failure_message=str(message),
            finished_at=timezone.now(),
            lease=None,
        ):
            with connection.cursor() as cursor:
                merge.forget_people(cursor, batch_id=batch_id)


def refuse_ranges(*, batch_id: int, shard: int, lease: uuid.UUID) -> str:
    """A reader found that its range does not hold whole records, one a line (a line end inside
    quotes, in the range or across a cut): drop what the readers staged and their counts, and
    hand the batch to its own run, which reads the file alone (REREAD: the caller queues it).
    The other readers' chunks fail from here on (_READING_BY_RANGES); batch_run removes the
    shard rows."""
    with transaction.atomic():
        batch = CardBatch.objects.select_for_update().filter(_READING_BY_RANGES, pk=batch_id).first()
        mine = CardBatchShard.objects.filter(
            batch_id=batch_id, shard=shard, lease=lease, status=CardBatchShard.Status.RUNNING
        )
        if batch is None or not mine.exists():
            raise LeaseLost(batch_id)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM healthbook_card_batch_row WHERE batch_id = %s", [batch_id])
            cursor.execute("DELETE FROM healthbook_card_batch_problem WHERE batch_id = %s", [batch_id])
        CardBatch.objects.filter(pk=batch_id).update(
            read_by_one_reader=True,
            rows_read=0,
            rows_accepted=0,
            rows_rejected=0,
            rows_warned=0,
            chunks_done=0,
            problem_counts={},
            status=CardBatch.Status.QUEUED,
            lease=None,
            heartbeat_at=timezone.now(),
        )
    logger.info("card batch %s: a record spans lines, the file is read by one reader", batch_id)
    return REREAD


def read_range(
    *, batch: CardBatch, run: CardBatchShard, lease: uuid.UUID, started: float, budget_seconds: float | None
) -> str | None:
    """A shard run's reading of its range, from its rows_read on. None when the range is staged."""
    following = CardBatchShard.objects.filter(batch_id=batch.pk, shard=run.shard + 1)
    end = following.values_list("read_from", flat=True).first() or batch.size_bytes
    rng = files.ByteRange(start=run.read_from, first_line=run.read_first_line, records=run.read_records, end=end)
    return _read(
        batch=batch,
        lease=lease,  # the layout was stored by plan_ranges: the batch lease is not needed
        started=started,
        budget_seconds=budget_seconds,
        done=run.rows_read,
        records=lambda fh, layout, skip: files.iter_range_cells(fh, layout, rng, skip=skip),
        stage=lambda done, size, validated: stage_range_chunk(
            batch_id=batch.pk,
            shard=run.shard,
            lease=lease,
            shards=batch.shards,
            expected_read=done,
            size=size,
            validated=validated,
        ),
        release=lambda: CardBatchShard.objects.filter(pk=run.pk, lease=lease).update(
            status=CardBatchShard.Status.QUEUED, lease=None, heartbeat_at=timezone.now()
        ),
        fail=lambda code, message: _fail_batch(batch.pk, code, message),
        inexact=lambda: refuse_ranges(batch_id=batch.pk, shard=run.shard, lease=lease),
    )
