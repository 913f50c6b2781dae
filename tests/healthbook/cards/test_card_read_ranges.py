"""Readers side by side (healthbook.cards.reading): a CSV file cut into byte ranges at line ends
gives the same records on the same line numbers as one reader; a file that cannot be cut exactly
is found so by a range's reader and read by one reader; the shard runs read their ranges, the
last one settles the batch and queues the others, and a reader killed mid-range resumes without
loss or duplicates."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from healthbook.cards import files, pipeline, runs, shards
from healthbook.cards.services import card_batch_create
from healthbook.models import CardBatch, CardBatchShard, Citizen, HealthBook, InsuranceCard
from tests.healthbook.conftest import card_csv, person

from .test_card_shards import _outcome, _staged_left

pytestmark = pytest.mark.django_db


def _layout(data: bytes) -> files.FileLayout:
    return files.inspect_file(io.BytesIO(data), size=len(data))


def _ranged_cells(data: bytes, parts: int):
    """The records read range by range; None if not cut; "inexact" if a range's reader refuses."""
    fh = io.BytesIO(data)
    layout = _layout(data)
    ranges = files.split_csv(fh, layout, size=len(data), parts=parts)
    if ranges is None:
        return None
    cells = []
    try:
        for rng in ranges:
            cells += list(files.iter_range_cells(io.BytesIO(data), layout, rng))
    except files.RangeInexact:
        return "inexact"
    return cells


def _one_reader(data: bytes):
    return list(files.iter_cells(io.BytesIO(data), _layout(data)))


@pytest.mark.parametrize("quotes", [True, False])
@pytest.mark.parametrize("newline", ["\r\n", "\n"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1258"])
@pytest.mark.parametrize("parts", [2, 3, 7])
def test_ranges_give_the_records_and_lines_of_one_reader(db, quotes, newline, encoding, parts):
    rows = [person(n, **({} if quotes else {"DIA_CHI": "Số 1 Lê Lợi"})) for n in range(1, 30)]
    rows[4] = {}  # an empty record: skipped, but its line counts
    if quotes:
        rows[9] = person(10, DIA_CHI='Số 3, "Ngõ" 5')  # quotes and the delimiter inside a cell
    data = card_csv(rows, newline=newline, encoding=encoding)
    assert (b'"' in data) == quotes
    assert _ranged_cells(data, parts) == _one_reader(data)
    # Without a line end after the last record, too.
    trimmed = data[: -len(newline)]
    assert _ranged_cells(trimmed, parts) == _one_reader(trimmed)


def test_a_file_that_cannot_be_cut_exactly_is_found_so_by_a_ranges_reader(db):
    rows = [person(n) for n in range(1, 20)]
    # A line end inside a quoted cell: records and lines differ, in a range or across the cut.
    across = 0
    for at in range(19):
        quoted = card_csv([*rows[:at], person(at + 1, DIA_CHI="x" * 300 + "\nLê Lợi"), *rows[at + 1 :]])
        inner = quoted.index(b"x" * 300 + b"\n") + 300
        cut = files.split_csv(io.BytesIO(quoted), _layout(quoted), size=len(quoted), parts=2)
        across += cut[1].start == inner + 1  # the second range starts inside the quotes
        assert _ranged_cells(quoted, 2) == "inexact", at
    assert across  # and some cut falls inside the quoted cell
    # A bare carriage return ends a line for the csv module, not for the cut (with no "\n" at
    # all, nothing is cut).
    assert _ranged_cells(card_csv(rows, newline="\r"), 2) is None
    # The same without a quote anywhere, and a bare carriage return at the end of a read block.
    plain = [person(n, DIA_CHI="Số 1 Lê Lợi") for n in range(1, 20)]
    head = card_csv(plain, newline="\n")
    one_cr = head.index(b"\n", len(head) // 3)
    for data in (head[:one_cr] + b"\r" + head[one_cr + 1 :], _up_to_block_end(head) + b"\ry\n" + head[-200:]):
        assert b'"' not in data
        assert _ranged_cells(data, 2) == "inexact"
    # Quotes left open at the end of a range: its last record takes in the line end, and the cut
    # falls right after it (the middle of the file is in that long line).
    tail = head[head.index(b"\n") + 1 :]
    open_quote = head + b'z,"' + b"y" * (len(head) + len(tail)) + b"\n" + tail
    cut = files.split_csv(io.BytesIO(open_quote), _layout(open_quote), size=len(open_quote), parts=2)
    assert open_quote[cut[1].start - 2 : cut[1].start] == b"y\n"
    assert _ranged_cells(open_quote, 2) == "inexact"
    # A cell longer than the csv module takes: read by one reader, which reports the record.
    huge = card_csv([*rows[:3], person(4, DIA_CHI="Số 1 Lê Lợi " + "x" * 200_000), *rows[4:]])
    assert _ranged_cells(huge, 2) == "inexact"
    # UTF-16: a line end is two bytes; not cut.
    wide = card_csv(rows, encoding="utf-16")
    assert files.split_csv(io.BytesIO(wide), _layout(wide), size=len(wide), parts=2) is None
    # More ranges than records.
    short = card_csv(rows[:2])
    assert files.split_csv(io.BytesIO(short), _layout(short), size=len(short), parts=5) is None


def _up_to_block_end(data: bytes) -> bytes:
    """`data` followed by records of "x" up to one byte before the end of the first read block."""
    fill = files.SCAN_BLOCK - 1 - len(data)
    lines, rest = divmod(fill, 10)
    return data + b"xxxxxxxxx\n" * lines + b"x" * rest


def test_a_line_end_across_two_read_blocks_still_cuts_exactly(db):
    plain = [person(n, DIA_CHI="Số 1 Lê Lợi") for n in range(1, 20)]
    head = card_csv(plain, newline="\r\n")
    data = _up_to_block_end(head) + b"\r\n" + card_csv(plain, newline="\r\n")
    assert data[files.SCAN_BLOCK - 1 : files.SCAN_BLOCK + 1] == b"\r\n"
    assert _ranged_cells(data, 2) == _one_reader(data)


def test_same_answer_read_side_by_side(card_codelists, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    unsharded = _outcome(settings, 0)
    unsharded.pop("cards")
    settings.CARD_IMPORT_SPLIT_MIN_BYTES = 0
    for n in (2, 5):
        ranged = _outcome(settings, n)
        assert ranged.pop("shards") == n
        cards = dict(ranged.pop("cards"))
        assert (cards["7900000001"], cards["7900000002"], cards["7900000004"]) == (7, 14, 16)
        assert {**ranged, "shards": 0} == unsharded, n
        assert ranged["staged_left"] == 0


def _ranged_batch(settings, tmp_path, rows, shard_count=2) -> tuple[CardBatch, list]:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CARD_IMPORT_SHARDS = shard_count
    settings.CARD_IMPORT_CHUNK_ROWS = 4
    settings.CARD_IMPORT_SPLIT_MIN_BYTES = 0
    batch = card_batch_create(acting_user=None, fh=io.BytesIO(card_csv(rows)), name="c.csv").batch
    queued = []
    outcome = runs.card_batch_run(batch_id=batch.pk, dispatch=lambda b, numbers: queued.extend(numbers))
    assert (outcome, queued) == (pipeline.MERGING, list(range(shard_count)))
    batch.refresh_from_db()
    assert batch.staged_at is None and batch.rows_read == 0  # cut, not read: the shard runs read
    return batch, queued


def test_shard_runs_read_their_ranges_and_the_last_settles_and_queues_the_others(card_codelists, settings, tmp_path):
    rows = [person(n) for n in range(1, 31)]
    rows[3] = person(4, GIOI_TINH="9")  # invalid
    rows[25] = person(2, HO_TEN="Trần Thị Bé")  # supersedes line 3, in the other range
    batch, queued = _ranged_batch(settings, tmp_path, rows)
    ranges = list(
        CardBatchShard.objects.filter(batch=batch).order_by("shard").values_list("read_first_line", "read_records")
    )
    assert ranges[0][0] == 2 and ranges[0][0] + ranges[0][1] == ranges[1][0] and sum(r for _, r in ranges) == 30
    queued.clear()
    dispatch = lambda b, numbers: queued.extend(numbers)  # noqa: E731
    # Shard 0 reads its range; shard 1's is not read yet: it waits, handed back to the queue.
    assert shards.shard_run(batch_id=batch.pk, shard=0, dispatch=dispatch) == pipeline.READING
    assert CardBatchShard.objects.get(batch=batch, shard=0).status == CardBatchShard.Status.QUEUED
    assert queued == [] and Citizen.objects.count() == 0
    # Shard 1 reads the last range, settles the whole file, queues shard 0 and merges its own.
    assert shards.shard_run(batch_id=batch.pk, shard=1, dispatch=dispatch) == pipeline.DONE
    assert queued == [0]
    assert shards.shard_run(batch_id=batch.pk, shard=0, dispatch=dispatch) == pipeline.DONE
    batch.refresh_from_db()
    assert batch.status == CardBatch.Status.DONE
    assert (batch.rows_read, batch.rows_accepted, batch.rows_rejected) == (30, 28, 2)
    assert batch.problem_counts == {"SEX_CODE": 1, "DUPLICATE_PERSON": 1, "FACILITY_UNKNOWN": 30}
    assert sorted(batch.problems.values_list("line", "code")) == [(3, "DUPLICATE_PERSON"), (5, "SEX_CODE")]
    assert Citizen.objects.count() == HealthBook.objects.count() == InsuranceCard.objects.count() == 28
    assert Citizen.objects.get(social_insurance_number="7900000002").full_name == "Trần Thị Bé"
    assert _staged_left() == 0


def test_a_reader_killed_mid_range_resumes_exactly_once(card_codelists, settings, tmp_path):
    rows = [person(n) for n in range(1, 41)]
    batch, _ = _ranged_batch(settings, tmp_path, rows)
    # A run of shard 0 stages one chunk of its range and dies (lease left, heartbeat stops).
    dead = pipeline.uuid.uuid4()
    assert shards.shard_claim(batch_id=batch.pk, shard=0, lease=dead)
    run = CardBatchShard.objects.get(batch=batch, shard=0)
    data = card_csv(rows)
    following = CardBatchShard.objects.get(batch=batch, shard=1).read_from
    rng = files.ByteRange(start=run.read_from, first_line=run.read_first_line, records=run.read_records, end=following)
    layout = _layout(data)
    chunk = list(files.iter_range_cells(io.BytesIO(data), layout, rng))[:4]
    ctx = pipeline.row_context_for(batch, layout)
    from healthbook.cards import reading

    validated = pipeline.validate_chunk(chunk, ctx, pipeline.ChunkValidator(ctx, layout))
    reading.stage_range_chunk(
        batch_id=batch.pk, shard=0, lease=dead, shards=2, expected_read=0, size=4, validated=validated
    )
    assert CardBatch.objects.get(pk=batch.pk).rows_read == 4
    # Fresh heartbeat: nobody takes it over. Stale: the sweeper queues it and a new run resumes.
    assert shards.shard_run(batch_id=batch.pk, shard=0) == pipeline.BUSY
    CardBatchShard.objects.filter(batch=batch, shard=0).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert shards.card_shards_requeue_stale() == [(batch.pk, 0)]
    # The dead run cannot stage again: its lease is gone.
    with pytest.raises(pipeline.LeaseLost):
        reading.stage_range_chunk(
            batch_id=batch.pk, shard=0, lease=dead, shards=2, expected_read=4, size=4, validated=validated
        )
    assert shards.shard_run(batch_id=batch.pk, shard=0) == pipeline.READING  # the rest of its range
    assert shards.shard_run(batch_id=batch.pk, shard=1) == pipeline.DONE  # its range, the settling, its merge
    assert shards.shard_run(batch_id=batch.pk, shard=0) == pipeline.DONE
    batch.refresh_from_db()
    assert (batch.status, batch.rows_read, batch.rows_accepted, batch.rows_rejected) == ("done", 40, 40, 0)
    assert (batch.citizens_created, batch.cards_created) == (40, 40)
    assert Citizen.objects.count() == InsuranceCard.objects.count() == 40
    assert CardBatchShard.objects.get(batch=batch, shard=0).runs == 3
    assert _staged_left() == 0


def test_a_batch_cut_into_ranges_keeps_its_shards_when_the_setting_changes(card_codelists, settings, tmp_path):
    batch, _ = _ranged_batch(settings, tmp_path, [person(n) for n in range(1, 21)], shard_count=3)
    CardBatch.objects.filter(pk=batch.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert pipeline.card_batches_requeue_stale() == [batch.pk]
    settings.CARD_IMPORT_SHARDS = 2
    assert runs.card_batch_run(batch_id=batch.pk) == pipeline.DONE
    batch.refresh_from_db()
    assert (batch.shards, batch.status, batch.rows_accepted, batch.citizens_created) == (3, "done", 20, 20)


def test_the_readers_binary_copy_names_the_staging_tables_column_types(db):
    """A binary COPY fails on a type the table does not have: the staged columns' types in
    merge.STAGE_TYPES are the shared staging table's, column for column."""
    from django.db import connection

    from healthbook.cards import merge, reading

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_name = 'healthbook_card_batch_row' ORDER BY ordinal_position"
        )
        table = cursor.fetchall()
    columns = ("batch_id", "shard", *merge.STAGE_COLUMNS)
    assert [(name, kind) for name, kind, _ in table] == list(zip(columns, reading._STAGE_TYPES, strict=True))
    nullable = {name for name, _, null in table if null == "YES"}
    assert nullable == {"personal_id", "province_id", "benefit_level", "valid_to"}
