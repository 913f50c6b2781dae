"""Run a card batch: claim it under a lease, then import it chunk by chunk.

Each chunk is one transaction that (a) locks the batch row and checks that this run still
holds the lease and that nobody advanced the batch meanwhile, (b) merges the chunk's valid
rows, (c) stores its rejected rows and (d) advances the counters and the heartbeat. A run
killed at any point leaves the batch exactly at its last committed chunk; the next run (the
redelivered task, or the sweeper's) skips that many rows of the file and carries on.
"""

from __future__ import annotations

import gc
import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from itertools import islice

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from healthbook import identifiers as ids
from healthbook.cards import files, merge
from healthbook.cards.fastrows import FastValidator
from healthbook.cards.rows import RowContext, StagedRow, validate_row
from healthbook.models import CardBatch

logger = logging.getLogger(__name__)

DONE, FAILED, YIELDED, BUSY, LOST, MERGING, READING = "done", "failed", "yielded", "busy", "lost", "merging", "reading"
REREAD = "reread"  # the file could not be read by ranges: queue the batch's run, which reads it alone


class LeaseLost(Exception):
    """Another run took the batch over (this run was presumed dead): stop without writing."""


class BatchFailure(Exception):
    def __init__(self, code: str, message):
        super().__init__(code)
        self.code = code
        self.message = message


def stale_after() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "CARD_IMPORT_STALE_SECONDS", 120)))


def task_budget_seconds() -> float:
    return float(getattr(settings, "CARD_IMPORT_TASK_BUDGET_SECONDS", 240))


def card_import_shards() -> int:
    """Shards of a new batch (CARD_IMPORT_SHARDS): 0 merges each chunk as it is read."""
    return max(0, min(64, int(getattr(settings, "CARD_IMPORT_SHARDS", 0))))


def worker_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def batch_claim(*, batch_id: int, lease: uuid.UUID) -> bool:
    """Take the batch if it is queued, or running with a heartbeat older than the stale limit."""
    now = timezone.now()
    return bool(
        CardBatch.objects.filter(pk=batch_id)
        .filter(
            Q(status=CardBatch.Status.QUEUED) | Q(status=CardBatch.Status.RUNNING, heartbeat_at__lt=now - stale_after())
        )
        .update(
            status=CardBatch.Status.RUNNING,
            lease=lease,
            worker=worker_label(),
            heartbeat_at=now,
            runs=F("runs") + 1,
            run_started_at=now,
            run_started_rows=F("rows_read"),
            started_at=Coalesce(F("started_at"), now),
        )
    )


def _locked(batch_id: int, lease: uuid.UUID) -> CardBatch:
    batch = CardBatch.objects.select_for_update().filter(pk=batch_id, lease=lease).first()
    if batch is None:
        raise LeaseLost(batch_id)
    return batch


def _fail(batch_id: int, lease: uuid.UUID, code: str, message) -> None:
    with transaction.atomic():
        batch = _locked(batch_id, lease)
        batch.status = CardBatch.Status.FAILED
        batch.failure_code = code
        batch.failure_message = str(message)
        batch.finished_at = timezone.now()
        batch.lease = None
        batch.save(update_fields=["status", "failure_code", "failure_message", "finished_at", "lease"])
        with connection.cursor() as cursor:
            merge.forget_people(cursor, batch_id=batch_id)


def _finish(batch_id: int, lease: uuid.UUID) -> None:
    with transaction.atomic():
        batch = _locked(batch_id, lease)
        with connection.cursor() as cursor:
            merge.forget_people(cursor, batch_id=batch_id)
        batch.status = CardBatch.Status.DONE
        batch.finished_at = timezone.now()
        batch.rows_estimated = batch.rows_read
        batch.lease = None
        batch.save(update_fields=["status", "finished_at", "rows_estimated", "lease"])


def _release(batch_id: int, lease: uuid.UUID) -> None:
    """Hand the batch back to the queue (time budget used); the caller enqueues the next run."""
    CardBatch.objects.filter(pk=batch_id, lease=lease).update(
        status=CardBatch.Status.QUEUED, lease=None, heartbeat_at=timezone.now()
    )


def row_context_for(batch: CardBatch, layout: files.FileLayout) -> RowContext:
    """Load the reference sets once per run: provinces, code lists in force, facility registry."""
    from codelists.validation import codes_in_force
    from facilities.models import Facility
    from geo.models import OldProvinceCode, Province
    from geo.selectors import commune_province_ids

    today = timezone.localtime(batch.created_at).date()
    old_to_new = dict(OldProvinceCode.objects.values_list("code", "province__code"))
    province_ids = dict(Province.objects.values_list("code", "pk"))
    groups = codes_in_force("beneficiary-group", today)
    if not groups:
        raise BatchFailure(
            "codelist_missing",
            _('No beneficiary group code list is in force; publish the "beneficiary-group" list first.'),
        )
    ethnicity = None
    if "MA_DANTOC" in layout.columns.values():
        ethnicity = codes_in_force("ethnicity", today)
        if not ethnicity:
            raise BatchFailure(
                "codelist_missing", _('No ethnicity code list is in force; publish the "ethnicity" list first.')
            )
    old_codes = frozenset(old_to_new)
    refs = ids.ReferenceSets(
        pid_provinces=ids.pid_province_codes(old_codes),
        card_groups=frozenset(groups),
        card_provinces=old_codes,
        facility_provinces=old_codes,
        residence_provinces=frozenset(province_ids) | old_codes,  # old codes map to the new (RowContext)
    )
    return RowContext(
        refs=refs,
        today=today,
        province_ids=province_ids,
        old_to_new=old_to_new,
        known_facilities=frozenset(Facility.objects.values_list("code", flat=True)),
        ethnicity_codes=frozenset(ethnicity) if ethnicity is not None else None,
        scope_province_code=batch.scope_province.code if batch.scope_province_id else None,
        communes=commune_province_ids(),
    )


def _layout(batch: CardBatch, fh, lease: uuid.UUID) -> files.FileLayout:
    """The file's layout: inspected on the first run and stored; later runs reuse it."""
    if batch.columns:
        return files.FileLayout(
            file_format=batch.file_format,
            encoding=batch.encoding,
            delimiter=batch.delimiter,
            columns={int(k): v for k, v in batch.columns["positions"].items()},
            header_width=batch.columns["width"],
            rows_estimated=batch.rows_estimated,
        )
    layout = files.inspect_file(fh, size=batch.size_bytes)
    with transaction.atomic():
        locked = _locked(batch.pk, lease)
        locked.file_format = layout.file_format
        locked.encoding = layout.encoding
        locked.delimiter = layout.delimiter
        locked.columns = {"positions": {str(k): v for k, v in layout.columns.items()}, "width": layout.header_width}
        locked.rows_estimated = layout.rows_estimated
        locked.save(update_fields=["file_format", "encoding", "delimiter", "columns", "rows_estimated"])
    return layout


def _value_text(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)[:1000]


# While a file is read, the collector's youngest generation is collected every _GC_YOUNG new
# container objects instead of every 700: a card record allocates a few (its cells, its row), and
# with the default the collector took a fifth to a quarter of the reading's time (bench/RESULTS.md,
# "Twelfth session"). Records hold no reference cycles; reference counting frees them as before.
_GC_YOUNG = 100_000
_gc_lock = threading.Lock()
_gc_readers = 0
_gc_saved: tuple[int, int, int] | None = None


def _fewer_collections(enter: bool) -> None:
    """Raise the young generation's threshold while any file is read in this process (counted:
    readers may overlap in threads); the first to start saves the thresholds, the last restores."""
    global _gc_readers, _gc_saved
    with _gc_lock:
        if enter:
            _gc_readers += 1
            if _gc_readers == 1:
                _gc_saved = gc.get_threshold()
                gc.set_threshold(max(_GC_YOUNG, _gc_saved[0]), *_gc_saved[1:])
        else:
            _gc_readers -= 1
            if _gc_readers == 0 and _gc_saved is not None:
                gc.set_threshold(*_gc_saved)
                _gc_saved = None


class Prefetch:
    """Run a generator in a thread, one item ahead of the consumer (bounded: one item waits).

    Exceptions of the generator are raised in the consumer. Leaving the `with` block stops the
    thread and waits for it, so whatever the generator reads may be closed afterwards. Meanwhile
    the process collects garbage less often (_fewer_collections).
    """

    _END = object()

    def __init__(self, produce):
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(produce,), name="card-validate", daemon=True)

    def __enter__(self):
        _fewer_collections(True)
        try:
            self._thread.start()
        except BaseException:
            _fewer_collections(False)
            raise
        return iter(self)

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()
        _fewer_collections(False)
        return False

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, produce) -> None:
        try:
            for item in produce():
                if not self._put(item):
                    return
            self._put(self._END)
        except BaseException as exc:  # noqa: BLE001 — handed to the consumer, raised there
            self._put(exc)

    def __iter__(self):
        while True:
            item = self._queue.get()
            if item is self._END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item


class ChunkValidator:
    """Validates records of one file layout: the fast path for plainly valid CSV records
    (fastrows), the full rules (rows.validate_row) for every other record."""

    def __init__(self, ctx: RowContext, layout: files.FileLayout | None = None):
        self.ctx = ctx
        self.columns = [(int(i), key) for i, key in layout.columns.items()] if layout is not None else []
        csv_layout = layout is not None and layout.file_format == "csv"
        self.fast = FastValidator(ctx, layout.columns) if csv_layout else None

    def row(self, line: int, record) -> tuple[StagedRow | None, list]:
        """`record`: the cells as read (files.iter_cells), a row dict (files.iter_rows) or None."""
        if record is None or isinstance(record, dict):
            return validate_row(line, record, self.ctx)
        if self.fast is not None:
            result = self.fast(line, record)
            if result is not None:
                return result
        return validate_row(line, files.cells_to_row(record, self.columns), self.ctx)


class PersonLedger:
    """The file's rules between rows, applied in line order: the last valid row of a person
    (insurance number) wins, the earlier one becomes DUPLICATE_PERSON; a row whose personal ID
    a still-valid row of another insurance number carries is PID_CONFLICT (and supersedes
    nothing). Used within each chunk (validate_chunk) and, by a sharded batch, over the rows
    of the whole staged file that share an insurance number or personal ID (shards.settle)."""

    def __init__(self):
        self.valid: dict[int, tuple[str, str | None]] = {}  # line -> (sin, personal ID)
        self.by_sin: dict[str, int] = {}
        self.by_pid: dict[str, int] = {}

    def offer(self, line: int, sin: str, personal_id: str | None) -> tuple[bool, int | None]:
        """(accepted, the earlier line it supersedes or None); not accepted: PID_CONFLICT."""
        owner = self.by_pid.get(personal_id) if personal_id else None
        if owner is not None and owner in self.valid and self.valid[owner][0] != sin:
            return False, None
        superseded = None
        earlier = self.by_sin.get(sin)
        if earlier is not None and earlier in self.valid:
            _, old_pid = self.valid.pop(earlier)
            superseded = earlier
            if old_pid and self.by_pid.get(old_pid) == earlier:
                del self.by_pid[old_pid]
        self.valid[line] = (sin, personal_id)
        self.by_sin[sin] = line
        if personal_id:
            self.by_pid[personal_id] = line
        return True, superseded


def validate_chunk(
    chunk: list[tuple[int, dict | list | None]], ctx: RowContext, validator: ChunkValidator | None = None
):
    """Validate a chunk: (valid rows, rejected problems [(line, field, value, code)], counts by code,
    rows with warnings). Within the chunk the last valid row of a person wins (PersonLedger)."""
    check = (validator or ChunkValidator(ctx)).row
    valid: dict[int, StagedRow] = {}
    ledger = PersonLedger()
    rejected: list[tuple[int, str, str, str]] = []
    counts: Counter = Counter()
    warned = 0
    for line, row in chunk:
        staged, problems = check(line, row)
        if problems:
            for p in problems:
                counts[p.code] += 1
            if staged is None:
                rejected.extend(
                    (line, p.field or "", _value_text(p.value), p.code) for p in problems if p.severity == ids.ERROR
                )
                continue
            warned += 1
        accepted, superseded = ledger.offer(line, staged.sin, staged.personal_id)
        if not accepted:
            rejected.append((line, "SO_CCCD", staged.personal_id, "PID_CONFLICT"))
            counts["PID_CONFLICT"] += 1
            continue
        if superseded is not None:
            old = valid.pop(superseded)
            rejected.append((old.line, "MA_SO_BHXH", old.sin, "DUPLICATE_PERSON"))
            counts["DUPLICATE_PERSON"] += 1
        valid[line] = staged
    return list(valid.values()), rejected, counts, warned


def _copy_problems(cursor, batch_id: int, rejected: list[tuple[int, str, str, str]]) -> None:
    if not rejected:
        return
    with cursor.copy('COPY healthbook_card_batch_problem (batch_id, line, "column", value, code) FROM STDIN') as copy:
        for line, column, value, code in rejected:
            copy.write_row((batch_id, line, column, value, code))


def merge_scope(ctx: RowContext) -> merge.Scope | None:
    """The province an officer's batch may change (None: a national batch): its id and the old
    codes that belong to it today (how a stored card's issuing province is written)."""
    code = ctx.scope_province_code
    if not code:
        return None
    old = tuple(sorted(o for o, new in ctx.old_to_new.items() if new == code))
    return merge.Scope(province_id=ctx.province_ids[code], old_codes=old)


def chunk_commit(*, batch_id: int, lease: uuid.UUID, expected_read: int, chunk, ctx: RowContext) -> int:
    """Validate and merge one chunk in one transaction; return the new rows_read."""
    return chunk_commit_validated(
        batch_id=batch_id,
        lease=lease,
        expected_read=expected_read,
        size=len(chunk),
        validated=validate_chunk(chunk, ctx),
        scope=merge_scope(ctx),
    )


def chunk_commit_validated(
    *,
    batch_id: int,
    lease: uuid.UUID,
    expected_read: int,
    size: int,
    validated,
    payload: bytes | None = None,
    scope: merge.Scope | None = None,
) -> int:
    """Merge one validated chunk of `size` records (validate_chunk's result; `payload` its valid
    rows as merge.copy_payload built them; `scope` the province of an officer's batch) in one
    transaction that also records the progress; return the new rows_read."""
    valid, rejected, counts, warned = validated
    with transaction.atomic():
        batch = _locked(batch_id, lease)
        if batch.rows_read != expected_read:
            raise LeaseLost(batch_id)
        if batch.scope_province_id is not None and (scope is None or scope.province_id != batch.scope_province_id):
            raise BatchFailure("internal_error", "an officer's batch was merged without its province")
        with connection.cursor() as cursor:
            result = merge.merge_chunk(cursor, batch_id=batch_id, rows=valid, payload=payload, scope=scope)
            for line, pid in result.conflicts:
                rejected.append((line, "SO_CCCD", pid, "PID_CONFLICT"))
            for line, sin in result.outside:
                rejected.append((line, "MA_SO_BHXH", sin, "CITIZEN_OTHER_PROVINCE"))
            for line, sin in result.superseded:
                rejected.append((line, "MA_SO_BHXH", sin, "DUPLICATE_PERSON"))
            counts["PID_CONFLICT"] += len(result.conflicts)
            counts["CITIZEN_OTHER_PROVINCE"] += len(result.outside)
            counts["DUPLICATE_PERSON"] += len(result.superseded)
            _copy_problems(cursor, batch_id, rejected)
        refused = len(result.conflicts) + len(result.outside)
        rejected_rows = size - len(valid) + refused
        accepted = len(valid) - refused
        # Earlier chunks' rows superseded by this chunk move from accepted to rejected.
        accepted -= len(result.superseded)
        rejected_rows += len(result.superseded)
        merged_counts = Counter(batch.problem_counts)
        merged_counts.update({k: v for k, v in counts.items() if v})
        CardBatch.objects.filter(pk=batch_id).update(
            rows_read=F("rows_read") + size,
            rows_accepted=F("rows_accepted") + accepted,
            rows_rejected=F("rows_rejected") + rejected_rows,
            rows_warned=F("rows_warned") + warned,
            problem_counts=dict(merged_counts),
            citizens_created=F("citizens_created") + result.citizens_created,
            books_created=F("books_created") + result.books_created,
            cards_created=F("cards_created") + result.cards_created,
            cards_updated=F("cards_updated") + result.cards_updated,
            chunks_done=F("chunks_done") + 1,
            heartbeat_at=timezone.now(),
        )
    return expected_read + size


def _open_stored(batch: CardBatch):
    """The stored file, from the configured storage (SSKDT_MEDIA_ROOT): written by the host that
    received the upload, read by whichever worker host runs the batch, so that storage must be
    shared by every web and worker host (docs/scale.md, "Several hosts"). A file this host cannot
    see fails the batch with a reason instead of an error naming a path."""
    try:
        return batch.file.open("rb")
    except FileNotFoundError:
        logger.error(
            "card batch %s: stored file %s is not in this host's storage; SSKDT_MEDIA_ROOT must be the "
            "storage shared by every web and worker host",
            batch.pk,
            batch.file.name,
        )
        raise BatchFailure(
            "stored_file_missing",
            _("The import service cannot read the stored file. Please tell the system administrator."),
        ) from None


def run_claimed(*, batch: CardBatch, lease: uuid.UUID, started: float, budget_seconds: float | None) -> str:
    """Import a batch merged as read (shards 0), from where it stands, under the lease `lease`
    (runs.card_batch_run claimed it). Returns DONE, FAILED, YIELDED or LOST."""
    batch_id = batch.pk
    chunk_rows = int(getattr(settings, "CARD_IMPORT_CHUNK_ROWS", 5000))
    try:
        with _open_stored(batch) as fh:
            layout = _layout(batch, fh, lease)
            ctx = row_context_for(batch, layout)
            scope = merge_scope(ctx)
            done = batch.rows_read
            validator = ChunkValidator(ctx, layout)

            def validated_chunks(skip=done):
                records = files.iter_cells(fh, layout, skip=skip)
                while chunk := list(islice(records, chunk_rows)):
                    size = len(chunk)
                    validated = validate_chunk(chunk, ctx, validator)
                    del chunk  # the raw records are not kept while the chunk waits to be merged
                    yield size, validated, merge.copy_payload(validated[0])

            # The next chunk is read and validated in a thread while this one merges (the merge
            # waits on the database, releasing the GIL); the file is closed only after it stopped.
            with Prefetch(validated_chunks) as chunks:
                for size, validated, payload in chunks:
                    done = chunk_commit_validated(
                        batch_id=batch_id,
                        lease=lease,
                        expected_read=done,
                        size=size,
                        validated=validated,
                        payload=payload,
                        scope=scope,
                    )
                    if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                        _release(batch_id, lease)
                        return YIELDED
    except files.FileRefused as exc:
        _fail(batch_id, lease, exc.code, exc.message)
        return FAILED
    except BatchFailure as exc:
        _fail(batch_id, lease, exc.code, exc.message)
        return FAILED
    except LeaseLost:
        logger.warning("card batch %s: lease lost, another run continues it", batch_id)
        return LOST
    except UnicodeDecodeError:
        _fail(batch_id, lease, "encoding_invalid", _("The file is not valid text in the encoding found at upload."))
        return FAILED
    _finish(batch_id, lease)
    return DONE


def batch_fail_unexpected(*, batch_id: int, message: str) -> None:
    """Mark a batch failed after an unexpected error (a bug, not a crash): do not retry forever."""
    CardBatch.objects.filter(pk=batch_id).exclude(status=CardBatch.Status.DONE).update(
        status=CardBatch.Status.FAILED,
        failure_code="internal_error",
        failure_message=message[:2000],
        finished_at=timezone.now(),
        lease=None,
    )
    with connection.cursor() as cursor:
        merge.forget_people(cursor, batch_id=batch_id)


def card_batches_requeue_stale() -> list[int]:
    """Hand back to the queue the batches whose run stopped sending heartbeats (worker killed,
    broker lost the message) and the queued batches whose message may be lost; return their ids
    (the caller queues a run for each once this commits)."""
    cutoff = timezone.now() - stale_after()
    stale = []
    with transaction.atomic():
        stuck = CardBatch.objects.select_for_update(skip_locked=True).filter(
            status__in=CardBatch.LIVE, heartbeat_at__lt=cutoff
        )
        for batch_id in stuck.values_list("pk", flat=True)[:100]:
            stale.append(batch_id)
        if stale:
            CardBatch.objects.filter(pk__in=stale).update(
                status=CardBatch.Status.QUEUED, lease=None, heartbeat_at=timezone.now()
            )
    return stale
