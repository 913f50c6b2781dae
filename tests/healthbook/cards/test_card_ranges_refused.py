"""A file cut into ranges that turns out not to hold whole records, one a line (a line end inside
quotes): the reader that finds it drops everything the readers staged, the batch's run reads the
file alone, and the answer is the one reader's. The other readers' chunks, even one already
under way, write nothing from then on."""

import io
import threading

import pytest
from django.db import transaction

from healthbook.cards import pipeline, reading, runs, shards
from healthbook.cards.services import card_batch_create
from healthbook.models import CardBatch, CardBatchShard, Citizen, InsuranceCard
from tests.healthbook.conftest import card_csv, person

from .test_card_read_ranges import _layout, _ranged_batch
from .test_card_shards import _staged_left, _Undo

pytestmark = pytest.mark.django_db


def _rows():
    rows = [person(n) for n in range(1, 41)]
    rows[3] = person(4, GIOI_TINH="9")  # invalid: a problem row and a count, both dropped and found again
    rows[5] = person(6, DIA_CHI="Số 1\nLê Lợi, phường Bến Thành")  # a record on two lines, in range 0
    rows[30] = person(2, HO_TEN="Trần Thị Bé")  # supersedes line 3 across the ranges
    return rows


def _answer(batch: CardBatch) -> tuple:
    batch.refresh_from_db()
    return (
        batch.status,
        (batch.rows_read, batch.rows_accepted, batch.rows_rejected, batch.citizens_created, batch.cards_created),
        batch.problem_counts,
        sorted(batch.problems.values_list("line", "code")),
        sorted(Citizen.objects.values_list("social_insurance_number", "full_name", "address")),
        sorted(InsuranceCard.objects.values_list("social_insurance_number", "source_line")),
    )


def _one_reader_answer(settings, tmp_path) -> tuple:
    """The file imported by one reader from the start, then rolled back."""
    settings.MEDIA_ROOT = str(tmp_path / "alone")
    settings.CARD_IMPORT_SHARDS = 2
    try:
        with transaction.atomic():
            alone = card_batch_create(acting_user=None, fh=io.BytesIO(card_csv(_rows())), name="c.csv").batch
            assert runs.card_batch_run(batch_id=alone.pk) == pipeline.DONE
            assert not alone.read_by_one_reader  # small: one reader without a cut (SPLIT_MIN_BYTES)
            raise _Undo(_answer(alone))
    except _Undo as undo:
        return undo.outcome


def test_a_record_on_two_lines_sends_the_file_to_one_reader_with_the_same_answer(card_codelists, settings, tmp_path):
    alone = _one_reader_answer(settings, tmp_path)
    assert alone[1] == (40, 38, 2, 38, 38)
    assert alone[3] == [(3, "DUPLICATE_PERSON"), (5, "SEX_CODE")]
    batch, _ = _ranged_batch(settings, tmp_path, _rows())
    queued = []
    dispatch = lambda b, numbers: queued.extend(numbers)  # noqa: E731
    assert shards.shard_run(batch_id=batch.pk, shard=1, dispatch=dispatch) == pipeline.READING
    assert CardBatch.objects.get(pk=batch.pk).rows_read > 0  # range 1 is staged, with its counts
    # Range 0 holds the record on two lines: its reader drops what was staged and hands the batch on.
    assert shards.shard_run(batch_id=batch.pk, shard=0, dispatch=dispatch) == pipeline.REREAD
    refused = CardBatch.objects.get(pk=batch.pk)
    assert refused.read_by_one_reader and refused.status == CardBatch.Status.QUEUED and refused.lease is None
    assert (refused.rows_read, refused.rows_accepted, refused.rows_rejected, refused.rows_warned) == (0, 0, 0, 0)
    assert (refused.problem_counts, refused.problems.count(), _staged_left(), queued) == ({}, 0, 0, [])
    # A run of shard 1 still queued (its range read) cannot settle the batch: the batch's run reads it.
    assert shards.shard_run(batch_id=batch.pk, shard=1, dispatch=dispatch) == pipeline.LOST
    assert runs.card_batch_run(batch_id=batch.pk) == pipeline.DONE
    assert _answer(batch) == alone
    assert list(CardBatchShard.objects.filter(batch=batch).values_list("read_from", flat=True)) == [None, None]
    assert _staged_left() == 0


def test_run_in_one_process_the_batch_is_read_again_and_done(card_codelists, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CARD_IMPORT_SHARDS = 2
    settings.CARD_IMPORT_CHUNK_ROWS = 4
    settings.CARD_IMPORT_SPLIT_MIN_BYTES = 0
    batch = card_batch_create(acting_user=None, fh=io.BytesIO(card_csv(_rows())), name="c.csv", run_now=True).batch
    assert (batch.status, batch.read_by_one_reader, batch.rows_read, batch.rows_accepted) == ("done", True, 40, 38)
    assert Citizen.objects.get(social_insurance_number="7900000006").address.startswith("Số 1")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # two sessions: the reader's and the refuser's
def test_a_chunk_under_way_when_the_ranges_are_refused_writes_nothing(card_codelists, settings, tmp_path, monkeypatch):
    """Shard 1's chunk has checked the batch and staged its rows when shard 0's reader, in another
    session, refuses the ranges: the chunk's update of the batch row, checked again under its
    lock, finds the batch refused and the chunk is rolled back whole."""
    batch, _ = _ranged_batch(settings, tmp_path, _rows())
    refuser, late = pipeline.uuid.uuid4(), pipeline.uuid.uuid4()
    assert shards.shard_claim(batch_id=batch.pk, shard=0, lease=refuser)
    assert shards.shard_claim(batch_id=batch.pk, shard=1, lease=late)
    data = card_csv(_rows())
    layout = _layout(data)
    ctx = pipeline.row_context_for(batch, layout)
    validated = pipeline.validate_chunk(
        [(30, list(person(30).values())), (31, list(person(31).values()))], ctx, pipeline.ChunkValidator(ctx, layout)
    )
    staged_then_refused = []
    stage = reading._stage

    def stage_then_refuse(cursor, batch_id, shard_count, chunk):
        stage(cursor, batch_id, shard_count, chunk)

        def refuse():
            try:
                staged_then_refused.append(reading.refuse_ranges(batch_id=batch.pk, shard=0, lease=refuser))
            finally:
                from django.db import connection

                connection.close()

        other = threading.Thread(target=refuse)
        other.start()
        other.join(timeout=30)

    monkeypatch.setattr(reading, "_stage", stage_then_refuse)
    with pytest.raises(pipeline.LeaseLost):
        reading.stage_range_chunk(
            batch_id=batch.pk, shard=1, lease=late, shards=2, expected_read=0, size=2, validated=validated
        )
    assert staged_then_refused == [pipeline.REREAD]
    refused = CardBatch.objects.get(pk=batch.pk)
    assert (refused.read_by_one_reader, refused.rows_read, refused.chunks_done) == (True, 0, 0)
    assert _staged_left() == 0
    assert CardBatchShard.objects.get(batch=batch, shard=1).rows_read == 0


def test_the_shard_task_that_refuses_the_ranges_queues_the_batchs_run(card_codelists, settings, tmp_path, monkeypatch):
    from healthbook.cards import tasks

    batch, _ = _ranged_batch(settings, tmp_path, _rows())
    queued = []
    monkeypatch.setattr(tasks.card_batch_import_task, "delay", queued.append)
    monkeypatch.setattr(tasks.card_shard_merge_task, "delay", lambda *args: queued.append(args))
    assert tasks.card_shard_merge_task.run(batch.pk, 0) == pipeline.REREAD
    assert queued == [batch.pk]
