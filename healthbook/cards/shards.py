"""Sharded merge of a card batch: read and stage once, then merge the shards side by side.

Why: the merge of a chunk is CPU in one PostgreSQL backend (≈ 45 µs a row, bench/RESULTS.md),
so one worker merges at most one core's worth. A batch of CARD_IMPORT_SHARDS = N > 0 is split
by a stable key of the person — crc32 of the social insurance number, mod N — and its N shards
are merged by N Celery tasks at once, each in its own backend.

Phase 1, read (reading.py): the file is validated chunk by chunk and each chunk is one
transaction that COPYs the valid rows, with their shard, into healthbook_card_batch_row, stores
the rejected rows and advances the progress. Either the batch's own run reads it all (under the
batch lease), or — a CSV file of CARD_IMPORT_SPLIT_MIN_BYTES or more, unless its readers find a
record spanning lines (reading.refuse_ranges) — the batch's run cuts it into one byte range per
shard, creates the shard rows carrying them and hands them out: each shard run then reads its
range before merging (under its shard lease), so the reading divides over the workers too. The
staging table is logged, not UNLOGGED: a staged row is counted as read, and after a server
crash an unlogged table would come back empty while the progress still says the rows were read
(they would never be merged). A run killed here resumes at its rows_read (the batch's, or its
shard's).

Phase 1b, settle (one transaction, once): the rules between rows of the file — the last row of
a person wins (DUPLICATE_PERSON), a personal ID carried by a still-valid row of another
insurance number is a conflict (PID_CONFLICT) — are applied over the whole staged file before
any merge, by the same PersonLedger as within a chunk, in line order, over only the staged rows
that share an insurance number or a personal ID with another staged row (found set-wise; every
other row cannot be touched by these rules). Afterwards no two staged rows of the batch share an
insurance number or a personal ID: two shards never write the same person, and the answer does
not depend on N, on the order the shards run or on how many workers run them. One shard row
(CardBatchShard) per shard is created in the same transaction (or, read side by side, given its
count of staged rows). Read side by side, the reader that finishes last settles, holding the
batch row, and queues the shards whose runs finished their ranges first (they wait, queued).

Phase 2, merge (one task per shard, card_shard_merge_task): the shard run holds a lease on its
shard row (heartbeat, stale after CARD_IMPORT_STALE_SECONDS, like the batch) and merges its
staged rows in line order, CARD_IMPORT_CHUNK_ROWS at a time. Each chunk is one transaction that
locks the shard row (lease check), MOVES the chunk out of the staging table (DELETE … RETURNING,
the source of the merge's matching pass), merges it (merge.merge_chunk: conflicts with existing
citizens, province scope, as before), stores its problems and advances the shard's last_line
and counters and the batch's counters (rows_accepted/rejected moved by F() expressions, so the
batch row is locked only for the moment of its UPDATE at the end of the transaction). A killed
shard run leaves its shard at its last committed chunk; the next run starts after last_line:
exactly once. The merge lock is per shard (merge.lock_merge): shards of one batch run at once,
the same shard of two batches waits; a unique violation that only two batches can cause (the
same personal ID under two insurance numbers, in different shards, at the same moment) rolls
the chunk back and it is merged again holding the merge lock exclusively.

Phase 3, finish: the shard run that finds its shard empty marks it done and, in the same
transaction, after its UPDATE of the batch row (which waits for any other shard's chunk that
holds it), counts the shards not done; the last one sums the shards' problem counts into the
batch and marks it done. Counts are the same with 1 or N shards and 1 or N workers.

Recovery: the sweeper re-queues shard runs whose heartbeat is stale (card_shards_requeue_stale),
and a batch whose every shard run died (batch heartbeat stale) is re-queued as a batch; its run
finds it staged and hands out the unfinished shards again (batch_run).

Known limit: the conflict with an *existing* citizen is judged when the chunk is merged, as
before. A row that changes an insured citizen's personal ID frees the old one; another row of
the same batch claiming that old ID in another shard is a conflict only if merged first (with
one worker and N = 0 the same case depends on the chunk it falls in).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from healthbook.cards import merge, pipeline, reading
from healthbook.cards.pipeline import BUSY, DONE, LOST, MERGING, READING, REREAD, YIELDED, LeaseLost
from healthbook.models import CardBatch, CardBatchShard

logger = logging.getLogger(__name__)

_STAGED = "healthbook_card_batch_row"
_COLS = ", ".join(merge.STAGE_COLUMNS)

# The staged rows that share an insurance number or a personal ID with another staged row of the
# batch, in line order: the only rows the rules between rows can touch. Joins and UNION, not
# IN (…) OR IN (…): those would be subplans, which do not spill to disk on a national file.
_REPEATED = f"""
WITH sins AS (SELECT sin FROM {_STAGED} WHERE batch_id = %(batch)s GROUP BY sin HAVING count(*) > 1),
pids AS (
    SELECT personal_id FROM {_STAGED} WHERE batch_id = %(batch)s AND personal_id IS NOT NULL
    GROUP BY personal_id HAVING count(*) > 1)
SELECT r.line, r.shard, r.sin, r.personal_id FROM {_STAGED} r JOIN sins USING (sin) WHERE r.batch_id = %(batch)s
UNION
SELECT r.line, r.shard, r.sin, r.personal_id FROM {_STAGED} r JOIN pids USING (personal_id)
WHERE r.batch_id = %(batch)s
ORDER BY line
"""  # noqa: S608 — only constant names are interpolated
_DROP = f"""
DELETE FROM {_STAGED} r USING unnest(%(shards)s::smallint[], %(lines)s::bigint[]) AS d(shard, line)
WHERE r.batch_id = %(batch)s AND r.shard = d.shard AND r.line = d.line
"""  # noqa: S608
_PER_SHARD = f"SELECT shard, count(*) FROM {_STAGED} WHERE batch_id = %(batch)s GROUP BY shard"  # noqa: S608
# A shard's next chunk leaves the staging table as the source of the merge's matching pass
# (merge.matching_pass_from sorts it by insurance number: the pass probes the unique indexes in
# that order). The chunk is one range of the primary key, its upper line found by an index-only scan:
# one pass over the index, where `line IN (SELECT … LIMIT n)` probed it again for every row (≈ 90
# against 200-270 ms a chunk of 20,000 rows, bench/RESULTS.md). Fewer than n rows left: no upper
# line, the rest is taken.
_TAKE_AND_MATCH = merge.matching_pass_from(f"""
DELETE FROM {_STAGED} WHERE batch_id = %(batch)s AND shard = %(shard)s AND line > %(after)s
AND line <= COALESCE((
    SELECT line FROM {_STAGED} WHERE batch_id = %(batch)s AND shard = %(shard)s AND line > %(after)s
    ORDER BY line OFFSET %(rows)s - 1 LIMIT 1), 9223372036854775807)
RETURNING {_COLS}
""")  # noqa: S608
# The rows a chunk writes name its batch, with no foreign key (migration 0033): the lock each
# key's check took on the batch row, taken once a chunk. The batch cannot be deleted before the
# chunk commits; the other shards' chunks and their updates of the batch's counters are not held up.
_HOLD_BATCH = "SELECT 1 FROM healthbook_card_batch WHERE id = %(batch)s AND status = ANY(%(live)s) FOR KEY SHARE"


def settle(*, batch_id: int, lease: uuid.UUID) -> None:
    """Apply the rules between rows over the whole staged file (the batch run's own reading)."""
    with transaction.atomic():
        batch = pipeline._locked(batch_id, lease)
        if batch.staged_at is None:
            _settle(batch)


_SET_STAGED = """
UPDATE healthbook_card_batch_shard s SET rows_staged = n.rows
FROM unnest(%(shards)s::smallint[], %(rows)s::bigint[]) AS n(shard, rows)
WHERE s.batch_id = %(batch)s AND s.shard = n.shard
"""


def _settle(batch: CardBatch) -> None:
    """Settle a batch whose row is locked by this transaction; its shard rows are created here
    (one reader) or were created with their ranges (readers side by side) and get their counts."""
    batch_id = batch.pk
    params = {"batch": batch_id}
    ledger = pipeline.PersonLedger()
    carried: dict[int, tuple[int, str]] = {}
    drop_shards: list[int] = []
    drop_lines: list[int] = []
    rejected: list[tuple[int, str, str, str]] = []
    counts: Counter = Counter()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(_REPEATED, params)
        for line, shard, sin, personal_id in cursor.fetchall():
            accepted, superseded = ledger.offer(line, sin, personal_id)
            if not accepted:
                drop_shards.append(shard)
                drop_lines.append(line)
                rejected.append((line, "SO_CCCD", personal_id, "PID_CONFLICT"))
                counts["PID_CONFLICT"] += 1
                continue
            carried[line] = (shard, sin)
            if superseded is not None:
                old_shard, old_sin = carried.pop(superseded)
                drop_shards.append(old_shard)
                drop_lines.append(superseded)
                rejected.append((superseded, "MA_SO_BHXH", old_sin, "DUPLICATE_PERSON"))
                counts["DUPLICATE_PERSON"] += 1
        if drop_lines:
            cursor.execute(_DROP, {**params, "shards": drop_shards, "lines": drop_lines})
        pipeline._copy_problems(cursor, batch_id, rejected)
        cursor.execute(_PER_SHARD, params)
        staged = dict(cursor.fetchall())
        now = timezone.now()
        if CardBatchShard.objects.filter(batch_id=batch_id).exists():
            numbers = list(range(batch.shards))
            cursor.execute(_SET_STAGED, {**params, "shards": numbers, "rows": [staged.get(k, 0) for k in numbers]})
        else:
            CardBatchShard.objects.bulk_create(
                [
                    CardBatchShard(batch_id=batch_id, shard=k, rows_staged=staged.get(k, 0), heartbeat_at=now)
                    for k in range(batch.shards)
                ]
            )
    CardBatch.objects.filter(pk=batch_id).update(
        rows_accepted=F("rows_accepted") - len(drop_lines),
        rows_rejected=F("rows_rejected") + len(drop_lines),
        problem_counts=reading.merge_counts(batch.problem_counts, counts),
        staged_at=now,
        heartbeat_at=now,
    )


_STAGED_BEFORE, _SETTLED = "staged", "settled"


def _reading_done(batch_id: int, shard: int, lease: uuid.UUID) -> str:
    """A shard's range is staged. STAGED: the whole file was already; SETTLED: this run was the
    last reader and settled it (here); READING: another range is still being read (this shard is
    then handed back to the queue in the same transaction, so the last reader finds it queued)."""
    now = timezone.now()
    with transaction.atomic():
        # The batch row first: the readers' chunks lock their shard row, then the batch row.
        batch = CardBatch.objects.select_for_update().filter(pk=batch_id, status__in=CardBatch.LIVE).first()
        if batch is not None and batch.read_by_one_reader and batch.staged_at is None:
            raise LeaseLost(batch_id)  # another range was found inexact: the batch's run reads the file
        mine = CardBatchShard.objects.filter(
            batch_id=batch_id, shard=shard, lease=lease, status=CardBatchShard.Status.RUNNING
        )
        if batch is None or not mine.update(read_done=True, heartbeat_at=now):
            raise LeaseLost(batch_id)
        if batch.staged_at is not None:
            return _STAGED_BEFORE
        if CardBatchShard.objects.filter(batch_id=batch_id, read_done=False).exists():
            mine.update(status=CardBatchShard.Status.QUEUED, lease=None)
            return READING
        _settle(batch)
        return _SETTLED


def _hand_out(batch_id: int, lease: uuid.UUID) -> list[int]:
    """Queue the shards not done and not held by a live run; give the batch lease back."""
    now = timezone.now()
    with transaction.atomic():
        pipeline._locked(batch_id, lease)
        shards = CardBatchShard.objects.filter(batch_id=batch_id).exclude(status=CardBatchShard.Status.DONE)
        alive = Q(status=CardBatchShard.Status.RUNNING, heartbeat_at__gte=now - pipeline.stale_after())
        pending = list(shards.exclude(alive).values_list("shard", flat=True))
        shards.filter(shard__in=pending).update(status=CardBatchShard.Status.QUEUED, lease=None, heartbeat_at=now)
        CardBatch.objects.filter(pk=batch_id).update(lease=None, heartbeat_at=now)
    return sorted(pending)


def batch_run(*, batch: CardBatch, lease: uuid.UUID, started: float, budget_seconds: float | None, dispatch) -> str:
    """The batch's own run of a sharded batch (runs.card_batch_run holds the batch lease): read the
    file itself, or cut it into ranges for the shard runs to read (reading.py); then hand out the
    shards not done. Without `dispatch` the shard runs run here, one after the other."""
    try:
        if batch.staged_at is None:
            if batch.read_by_one_reader:
                # The readers side by side found the file not to be cut exactly (reading.refuse_ranges):
                # their shard rows go; this run reads the file and creates them again when it settles.
                CardBatchShard.objects.filter(batch_id=batch.pk).delete()
            ranged = CardBatchShard.objects.filter(batch_id=batch.pk).exists()
            if not ranged and not batch.rows_read:
                ranged = reading.plan_ranges(batch=batch, lease=lease)
                if ranged == pipeline.FAILED:
                    return ranged
            if not ranged:
                outcome = reading.read_serial(batch=batch, lease=lease, started=started, budget_seconds=budget_seconds)
                if outcome is not None:
                    return outcome
                settle(batch_id=batch.pk, lease=lease)
        pending = _hand_out(batch.pk, lease)
    except LeaseLost:
        logger.warning("card batch %s: lease lost, another run continues it", batch.pk)
        return LOST
    if dispatch is not None:
        if pending:
            dispatch(batch.pk, pending)
        return MERGING
    # In this process: the ranges are read in turn; the last reader settles the batch and the
    # shards that waited for it are merged in a second round.
    for _round in range(2):
        for shard in pending:
            if shard_run(batch_id=batch.pk, shard=shard) == REREAD:
                return REREAD
        pending = sorted(
            CardBatchShard.objects.filter(batch_id=batch.pk, status=CardBatchShard.Status.QUEUED).values_list(
                "shard", flat=True
            )
        )
    status = CardBatch.objects.filter(pk=batch.pk).values_list("status", flat=True).first()
    return DONE if status == CardBatch.Status.DONE else MERGING


def shard_claim(*, batch_id: int, shard: int, lease: uuid.UUID) -> bool:
    """Take the shard if it is queued, or running with a stale heartbeat, and its batch is live."""
    now = timezone.now()
    return bool(
        CardBatchShard.objects.filter(
            batch_id=batch_id,
            shard=shard,
            batch__status__in=CardBatch.LIVE,
        )
        .filter(
            Q(status=CardBatchShard.Status.QUEUED)
            | Q(status=CardBatchShard.Status.RUNNING, heartbeat_at__lt=now - pipeline.stale_after())
        )
        .update(
            status=CardBatchShard.Status.RUNNING,
            lease=lease,
            worker=pipeline.worker_label(),
            heartbeat_at=now,
            runs=F("runs") + 1,
        )
    )


def scope_of(batch: CardBatch) -> merge.Scope | None:
    """The province an officer's batch may change (as pipeline.merge_scope, from the batch)."""
    if batch.scope_province_id is None:
        return None
    from geo.models import OldProvinceCode

    old = OldProvinceCode.objects.filter(province_id=batch.scope_province_id).values_list("code", flat=True)
    return merge.Scope(province_id=batch.scope_province_id, old_codes=tuple(sorted(old)))


def shard_run(*, batch_id: int, shard: int, budget_seconds: float | None = None, dispatch=None) -> str:
    """Read the shard's range if it has one still to read, then merge the shard from where it
    stands: DONE (shard empty), READING (another range is still being read: its reader will
    queue this shard), YIELDED, FAILED, BUSY or LOST. The reader that settles the batch queues
    the shards waiting for it through `dispatch(batch_id, shard numbers)`."""
    lease = uuid.uuid4()
    if not shard_claim(batch_id=batch_id, shard=shard, lease=lease):
        return BUSY
    started = time.monotonic()
    batch = CardBatch.objects.select_related("scope_province").get(pk=batch_id)
    try:
        if batch.staged_at is None:
            run = CardBatchShard.objects.get(batch_id=batch_id, shard=shard)
            if not run.read_done:
                outcome = reading.read_range(
                    batch=batch, run=run, lease=lease, started=started, budget_seconds=budget_seconds
                )
                if outcome is not None:
                    return outcome
            reading_state = _reading_done(batch_id, shard, lease)
            if reading_state == READING:
                return READING
            if reading_state == _SETTLED and dispatch is not None:
                waiting = CardBatchShard.objects.filter(batch_id=batch_id, status=CardBatchShard.Status.QUEUED)
                if numbers := sorted(waiting.values_list("shard", flat=True)):
                    dispatch(batch_id, numbers)
        scope = scope_of(batch)
        chunk_rows = int(getattr(settings, "CARD_IMPORT_CHUNK_ROWS", 5000))
        while not shard_chunk(batch_id=batch_id, shard=shard, lease=lease, chunk_rows=chunk_rows, scope=scope):
            if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                CardBatchShard.objects.filter(batch_id=batch_id, shard=shard, lease=lease).update(
                    status=CardBatchShard.Status.QUEUED, lease=None, heartbeat_at=timezone.now()
                )
                return YIELDED
    except LeaseLost:
        logger.warning("card batch %s shard %s: lease lost, another run continues it", batch_id, shard)
        return LOST
    return DONE


def shard_chunk(*, batch_id: int, shard: int, lease: uuid.UUID, chunk_rows: int, scope) -> bool:
    """Merge the shard's next chunk in one transaction; True when the shard was empty (done)."""
    try:
        return _shard_chunk(batch_id, shard, lease, chunk_rows, scope, exclusive=False)
    except IntegrityError:
        # Only another batch writing the same personal ID in another shard at this moment can
        # cause it (the rows of one batch are settled): merge the chunk again, alone.
        logger.info("card batch %s shard %s: unique violation, chunk merged again exclusively", batch_id, shard)
        return _shard_chunk(batch_id, shard, lease, chunk_rows, scope, exclusive=True)


def _shard_chunk(batch_id, shard, lease, chunk_rows, scope, *, exclusive: bool) -> bool:
    with transaction.atomic():
        run = CardBatchShard.objects.select_for_update().filter(batch_id=batch_id, shard=shard, lease=lease).first()
        if run is None or run.status != CardBatchShard.Status.RUNNING:
            raise LeaseLost(batch_id)
        fill = (_TAKE_AND_MATCH, {"batch": batch_id, "shard": shard, "after": run.last_line, "rows": chunk_rows})
        with connection.cursor() as cursor:
            cursor.execute(_HOLD_BATCH, {"batch": batch_id, "live": list(CardBatch.LIVE)})
            if cursor.fetchone() is None:
                raise LeaseLost(batch_id)
            result = merge.merge_chunk(
                cursor, batch_id=batch_id, rows=None, scope=scope, fill=fill, shard=None if exclusive else shard
            )
            size, last = result.rows, result.last_line
            if not size:
                _shard_done(cursor, run)
                return True
            rejected = [(line, "SO_CCCD", pid, "PID_CONFLICT") for line, pid in result.conflicts]
            rejected += [(line, "MA_SO_BHXH", sin, "CITIZEN_OTHER_PROVINCE") for line, sin in result.outside]
            rejected += [(line, "MA_SO_BHXH", sin, "DUPLICATE_PERSON") for line, sin in result.superseded]
            pipeline._copy_problems(cursor, batch_id, rejected)
            # The foreign-key checks of the chunk's rows (deferred: they would run at COMMIT, while
            # this transaction holds the batch row and the other shards wait for it) run now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        counts = Counter(
            PID_CONFLICT=len(result.conflicts),
            CITIZEN_OTHER_PROVINCE=len(result.outside),
            DUPLICATE_PERSON=len(result.superseded),
        )
        refused = len(rejected)
        now = timezone.now()
        CardBatchShard.objects.filter(pk=run.pk).update(
            last_line=last,
            rows_merged=F("rows_merged") + size,
            rows_refused=F("rows_refused") + refused,
            problem_counts=reading.merge_counts(run.problem_counts, counts),
            chunks_done=F("chunks_done") + 1,
            heartbeat_at=now,
        )
        # Last: the batch row stays locked only from here to the commit.
        CardBatch.objects.filter(pk=batch_id).update(
            rows_accepted=F("rows_accepted") - refused,
            rows_rejected=F("rows_rejected") + refused,
            rows_merged=F("rows_merged") + size,
            citizens_created=F("citizens_created") + result.citizens_created,
            books_created=F("books_created") + result.books_created,
            cards_created=F("cards_created") + result.cards_created,
            cards_updated=F("cards_updated") + result.cards_updated,
            heartbeat_at=now,
        )
    return False


def _shard_done(cursor, run: CardBatchShard) -> None:
    """Mark the shard done; the last shard of the batch finishes the batch (same transaction)."""
    now = timezone.now()
    CardBatchShard.objects.filter(pk=run.pk).update(
        status=CardBatchShard.Status.DONE, lease=None, finished_at=now, heartbeat_at=now
    )
    # FOR NO KEY UPDATE, not FOR UPDATE: the other shards' chunks hold the batch row FOR KEY SHARE
    # (_HOLD_BATCH); two shards finishing at once would each wait for the other's key-share lock.
    batch = CardBatch.objects.select_for_update(no_key=True).get(pk=run.batch_id)
    if CardBatchShard.objects.filter(batch_id=run.batch_id).exclude(status=CardBatchShard.Status.DONE).exists():
        CardBatch.objects.filter(pk=run.batch_id).update(heartbeat_at=now)
        return
    counts = Counter(batch.problem_counts)
    for shard_counts in CardBatchShard.objects.filter(batch_id=run.batch_id).values_list("problem_counts", flat=True):
        counts.update({k: v for k, v in shard_counts.items() if v})
    merge.forget_people(cursor, batch_id=run.batch_id)
    CardBatch.objects.filter(pk=run.batch_id).update(
        status=CardBatch.Status.DONE,
        problem_counts=dict(counts),
        finished_at=now,
        heartbeat_at=now,
        rows_estimated=F("rows_read"),
        lease=None,
    )


def card_shards_requeue_stale() -> list[tuple[int, int]]:
    """Hand back to the queue the shard runs that stopped sending heartbeats (worker killed,
    message lost); return (batch id, shard) of each (the caller queues a run once this commits)."""
    cutoff = timezone.now() - pipeline.stale_after()
    with transaction.atomic():
        stuck = list(
            CardBatchShard.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status__in=[CardBatchShard.Status.RUNNING, CardBatchShard.Status.QUEUED],
                heartbeat_at__lt=cutoff,
                batch__status=CardBatch.Status.RUNNING,
            )
            .values_list("pk", "batch_id", "shard")[:100]
        )
        if stuck:
            CardBatchShard.objects.filter(pk__in=[pk for pk, _, _ in stuck]).update(
                status=CardBatchShard.Status.QUEUED, lease=None, heartbeat_at=timezone.now()
            )
    return [(batch_id, shard) for _, batch_id, shard in stuck]
