"""Sharded merge (healthbook.cards.shards): the same answer with 0 (merge as read), 1 or several
shards on a file whose conflicts span chunks and shards; a shard run that dies resumes from its
last committed chunk without loss or duplicates; a run that lost its lease writes nothing."""

import io
from datetime import date, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from healthbook.cards import pipeline, runs, shards
from healthbook.cards.services import card_batch_create
from healthbook.models import CardBatch, CardBatchShard, Citizen, HealthBook, InsuranceCard, InsuranceCardHistory
from tests.healthbook.conftest import card_csv, person

pytestmark = pytest.mark.django_db


class _Undo(Exception):
    def __init__(self, outcome):
        super().__init__("undo")
        self.outcome = outcome


def _rows():
    """Conflicts inside a chunk, across chunks (chunk of 3 rows) and so across shards."""
    return [
        person(1),  # 2: superseded by line 7 (another chunk)
        person(2),  # 3: superseded by line 14
        person(3, SO_CCCD="079085200001"),  # 4: personal ID of person 1 (same chunk): PID_CONFLICT
        person(4),  # 5
        person(5, GIOI_TINH="9"),  # 6: invalid
        person(1, HO_TEN="Nguyễn Văn Anh"),  # 7: wins for person 1
        person(6, SO_CCCD="079085200004"),  # 8: personal ID of person 4 (earlier chunk): PID_CONFLICT
        person(7, SO_CCCD="079085200900"),  # 9: personal ID of an existing insured citizen: PID_CONFLICT
        person(8, GT_THE_DEN="20261231"),  # 10: renews an existing card
        *[person(n) for n in range(10, 13)],  # 11-13
        person(2, HO_TEN="Trần Thị Bé"),  # 14: wins for person 2
        person(13, SO_CCCD=""),  # 15: no personal ID
        person(4, SO_CCCD="079085200099"),  # 16: supersedes line 5 and frees its personal ID
        person(14, SO_CCCD="079085200004"),  # 17: claims the freed personal ID of line 5
        *[person(n) for n in range(20, 32)],
    ]


def _outcome(settings, shard_count: int) -> dict:
    settings.CARD_IMPORT_SHARDS = shard_count
    settings.CARD_IMPORT_CHUNK_ROWS = 3
    try:
        with transaction.atomic():
            base = card_csv([person(900), person(8)])
            card_batch_create(acting_user=None, fh=io.BytesIO(base), name="base.csv", run_now=True)
            batch = card_batch_create(
                acting_user=None, fh=io.BytesIO(card_csv(_rows())), name="cards.csv", run_now=True
            ).batch
            raise _Undo(
                {
                    "status": batch.status,
                    "shards": batch.shards,
                    "counts": (
                        batch.rows_read,
                        batch.rows_accepted,
                        batch.rows_rejected,
                        batch.rows_warned,
                        batch.citizens_created,
                        batch.books_created,
                        batch.cards_created,
                        batch.cards_updated,
                    ),
                    "problem_counts": batch.problem_counts,
                    "problems": sorted(batch.problems.values_list("line", "column", "value", "code")),
                    "citizens": sorted(
                        Citizen.objects.values_list("social_insurance_number", "personal_id", "full_name")
                    ),
                    "books": HealthBook.objects.count(),
                    "cards": sorted(InsuranceCard.objects.values_list("social_insurance_number", "source_line")),
                    "history": InsuranceCardHistory.objects.count(),
                    "staged_left": _staged_left(),
                }
            )
    except _Undo as undo:
        return undo.outcome


def _staged_left() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM healthbook_card_batch_row")
        return cursor.fetchone()[0]


def test_same_answer_with_one_or_several_shards_as_merged_while_read(card_codelists, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    unsharded = _outcome(settings, 0)
    assert unsharded["status"] == "done" and unsharded["shards"] == 0
    counts = unsharded["problem_counts"]
    assert (counts["DUPLICATE_PERSON"], counts["PID_CONFLICT"], counts["SEX_CODE"]) == (3, 3, 1)
    # The personal ID that line 16 freed went to line 17's person.
    assert ("7900000014", "079085200004", "Nguyễn Văn An") in unsharded["citizens"]
    # Merged as read, an unchanged card keeps the line that first wrote it (2, 3, 5); staged,
    # the superseded lines are never merged and the card names the winning line.
    cards = dict(unsharded.pop("cards"))
    assert (cards["7900000001"], cards["7900000002"], cards["7900000004"]) == (2, 3, 5)
    for n in (1, 2, 5):
        sharded = _outcome(settings, n)
        assert sharded.pop("shards") == n
        cards = dict(sharded.pop("cards"))
        assert (cards["7900000001"], cards["7900000002"], cards["7900000004"]) == (7, 14, 16)
        assert {**sharded, "shards": 0} == unsharded, n
    assert unsharded["staged_left"] == 0


def _staged_batch(settings, tmp_path, rows, shard_count=2) -> CardBatch:
    """A batch read, staged and settled, its shard runs queued but not run (no worker)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CARD_IMPORT_SHARDS = shard_count
    settings.CARD_IMPORT_CHUNK_ROWS = 4
    batch = card_batch_create(acting_user=None, fh=io.BytesIO(card_csv(rows)), name="c.csv").batch
    queued = []
    outcome = runs.card_batch_run(batch_id=batch.pk, dispatch=lambda b, numbers: queued.extend(numbers))
    assert (outcome, queued) == (pipeline.MERGING, list(range(shard_count)))
    batch.refresh_from_db()
    return batch


def test_dead_shard_run_is_requeued_and_resumes_exactly_once(card_codelists, settings, tmp_path):
    rows = [person(n) for n in range(1, 41)]
    batch = _staged_batch(settings, tmp_path, rows)
    assert batch.status == CardBatch.Status.RUNNING and batch.staged_at is not None
    assert sum(CardBatchShard.objects.filter(batch=batch).values_list("rows_staged", flat=True)) == 40
    # A run of shard 0 merges two chunks and dies (its lease is left behind, heartbeat stops).
    dead = pipeline.uuid.uuid4()
    assert shards.shard_claim(batch_id=batch.pk, shard=0, lease=dead)
    for _ in range(2):
        assert not shards.shard_chunk(batch_id=batch.pk, shard=0, lease=dead, chunk_rows=4, scope=None)
    merged = CardBatchShard.objects.get(batch=batch, shard=0).rows_merged
    assert merged == 8 and Citizen.objects.count() == 8
    # While its heartbeat is fresh nobody takes it over.
    assert shards.shard_run(batch_id=batch.pk, shard=0) == pipeline.BUSY
    assert shards.card_shards_requeue_stale() == []
    old = timezone.now() - timedelta(hours=1)
    CardBatchShard.objects.filter(batch=batch).update(heartbeat_at=old)
    assert sorted(shards.card_shards_requeue_stale()) == [(batch.pk, 0), (batch.pk, 1)]
    assert shards.shard_run(batch_id=batch.pk, shard=0) == pipeline.DONE
    # The dead run's lease is gone: if it woke up it could not write a chunk.
    with pytest.raises(pipeline.LeaseLost):
        shards.shard_chunk(batch_id=batch.pk, shard=0, lease=dead, chunk_rows=4, scope=None)
    assert CardBatch.objects.get(pk=batch.pk).status == CardBatch.Status.RUNNING  # shard 1 still to merge
    assert shards.shard_run(batch_id=batch.pk, shard=1) == pipeline.DONE
    batch.refresh_from_db()
    assert batch.status == CardBatch.Status.DONE
    assert (batch.rows_read, batch.rows_accepted, batch.rows_rejected, batch.rows_merged) == (40, 40, 0, 40)
    assert (batch.citizens_created, batch.books_created, batch.cards_created) == (40, 40, 40)
    assert Citizen.objects.count() == HealthBook.objects.count() == InsuranceCard.objects.count() == 40
    assert CardBatchShard.objects.get(batch=batch, shard=0).runs == 2
    assert _staged_left() == 0


def test_batch_whose_shard_runs_all_died_is_handed_out_again(card_codelists, settings, tmp_path):
    batch = _staged_batch(settings, tmp_path, [person(n) for n in range(1, 21)], shard_count=3)
    old = timezone.now() - timedelta(hours=1)
    CardBatch.objects.filter(pk=batch.pk).update(heartbeat_at=old)
    assert pipeline.card_batches_requeue_stale() == [batch.pk]
    # The batch's next run finds it staged and merges the shards (here in this process).
    assert runs.card_batch_run(batch_id=batch.pk) == pipeline.DONE
    batch.refresh_from_db()
    assert (batch.status, batch.rows_accepted, batch.citizens_created) == ("done", 20, 20)
    assert sorted(CardBatchShard.objects.filter(batch=batch).values_list("status", flat=True)) == ["done"] * 3


def test_progress_counts_reading_then_merging(card_codelists, settings, tmp_path):
    from healthbook.cards.selectors import card_batch_progress

    batch = _staged_batch(settings, tmp_path, [person(n) for n in range(1, 21)])
    batch.rows_estimated = 20
    assert card_batch_progress(batch).percent == 50
    shards.shard_run(batch_id=batch.pk, shard=0)
    batch.refresh_from_db()
    batch.rows_estimated = 20
    assert 50 < card_batch_progress(batch).percent < 100


def test_a_card_another_batch_writes_meanwhile_sends_the_chunk_to_be_merged_again_alone(
    card_codelists, settings, tmp_path
):
    """The merge inserts the cards its matching pass found missing with a plain INSERT. Another
    batch (of another shard count, so not held off by the shard lock) writing one of those cards
    in between is a unique violation: the chunk is rolled back and merged again alone. Here a
    trigger plays the other batch, once (a sequence: not rolled back); its card goes with the
    rolled-back attempt, so the second attempt inserts the card itself."""
    from django.db import connection

    other = Citizen.objects.create(full_name="Lê Thị Hoa", birth_date=date(1990, 5, 1), sex=2)  # no card yet
    batch = _staged_batch(settings, tmp_path, [person(n) for n in range(1, 9)], shard_count=1)
    other_card = f"""
        INSERT INTO healthbook_card (citizen_id, social_insurance_number, card_number, beneficiary_group,
            benefit_level, issuing_province_code, primary_care_facility_code, valid_from, valid_to,
            source_line, updated_at)
        VALUES ({int(other.pk)}, '7900000003', 'GD4797900000003', 'GD', 4, '79', '79001', '2026-01-01',
            NULL, 1, now())"""
    with connection.cursor() as cursor:
        # The other batch's card is a valid row: only its insurance number can stop the merge.
        with transaction.atomic():
            cursor.execute(other_card)
            transaction.set_rollback(True)
        cursor.execute("CREATE TEMP SEQUENCE other_batch_once")
        cursor.execute(
            "CREATE FUNCTION pg_temp.other_batch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF nextval('other_batch_once') = 1 THEN {other_card}; END IF; RETURN NULL; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER other_batch AFTER INSERT ON healthbook_citizen "
            "FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.other_batch()"
        )
    try:
        assert shards.shard_run(batch_id=batch.pk, shard=0) == pipeline.DONE
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER other_batch ON healthbook_citizen")
            cursor.execute("SELECT last_value FROM other_batch_once")
            fired = cursor.fetchone()[0]
    assert fired == 3  # two chunks, the first of them merged twice
    batch.refresh_from_db()
    assert (batch.status, batch.rows_merged, batch.citizens_created) == ("done", 8, 8)
    assert (batch.cards_created, batch.cards_updated) == (8, 0)
    card = InsuranceCard.objects.get(social_insurance_number="7900000003")
    assert (card.source_batch_id, card.citizen.full_name) == (batch.pk, person(3)["HO_TEN"])
    assert InsuranceCard.objects.filter(source_batch=batch).count() == 8
