"""The batch provenance of books, cards and card history (migration 0033): no database foreign
key, yet never a reference to a batch that is gone. Deleting a batch clears them, through the
ORM and through plain SQL; the SQL path waits for the card merges in progress; a shard chunk of a
batch that is no longer live writes nothing."""

import psycopg
import pytest
from django.db import OperationalError, connection, transaction

from healthbook.cards import merge, pipeline, shards
from healthbook.models import CardBatch, CardBatchShard, HealthBook, InsuranceCard, InsuranceCardHistory
from tests.healthbook.cards.test_card_shards import _staged_batch
from tests.healthbook.conftest import card_csv, person

pytestmark = pytest.mark.django_db


def _two_batches(import_file):
    """A first batch opens three books; a second renews two of the cards (history names both)."""
    first = import_file(card_csv([person(1), person(2), person(3)]))
    second = import_file(card_csv([person(1, GT_THE_DEN="20271231"), person(2, GT_THE_DEN="20271231")]))
    assert (second.cards_updated, InsuranceCardHistory.objects.count()) == (2, 2)
    return first, second


def _other_session() -> psycopg.Connection:
    """A second session on the test database (as another worker's)."""
    s = connection.settings_dict
    url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return psycopg.connect(url, connect_timeout=5)


def _references() -> dict:
    return {
        "books": sorted(HealthBook.objects.values_list("created_by_batch_id", flat=True), key=str),
        "cards": sorted(InsuranceCard.objects.values_list("source_batch_id", flat=True), key=str),
        "history": sorted(InsuranceCardHistory.objects.values_list("source_batch_id", "replaced_by_batch_id"), key=str),
    }


def _delete_by_sql(batch_id: int) -> None:
    with connection.cursor() as cursor:
        for table in ("healthbook_card_batch_problem", "healthbook_card_batch_person", "healthbook_card_batch_shard"):
            cursor.execute(f"DELETE FROM {table} WHERE batch_id = %s", [batch_id])  # noqa: S608 — constant names
        cursor.execute("DELETE FROM healthbook_card_batch WHERE id = %s", [batch_id])


def test_a_batch_deleted_by_sql_leaves_no_reference_to_it(import_file):
    first, second = _two_batches(import_file)
    _delete_by_sql(first.pk)
    assert _references() == {
        "books": [None, None, None],
        "cards": sorted([None, second.pk, second.pk], key=str),
        "history": [(None, second.pk), (None, second.pk)],
    }
    _delete_by_sql(second.pk)
    assert _references() == {"books": [None] * 3, "cards": [None] * 3, "history": [(None, None)] * 2}


def test_a_batch_deleted_through_the_orm_leaves_no_reference_to_it(import_file):
    first, second = _two_batches(import_file)
    CardBatch.objects.filter(pk=second.pk).delete()
    assert _references() == {
        "books": [first.pk] * 3,
        "cards": sorted([first.pk, None, None], key=str),  # the renewed cards keep the second's values
        "history": [(first.pk, None), (first.pk, None)],
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the imports commit: merge locks released
def test_deleting_a_batch_waits_for_the_card_merges_in_progress(import_file):
    """A merge in progress may be copying a card of the batch into the history: the delete's
    trigger waits for the merge lock (held here, shared, by another session, as a shard's chunk
    holds it) instead of clearing the references under it."""
    first, _second = _two_batches(import_file)
    with _other_session() as merging, merging.cursor() as other:
        other.execute("SET lock_timeout = '5s'")
        other.execute("SELECT pg_advisory_xact_lock_shared(%s)", [merge._MERGE_LOCK])
        with pytest.raises(OperationalError, match="lock timeout"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '300ms'")
            _delete_by_sql(first.pk)
        merging.rollback()
    assert CardBatch.objects.filter(pk=first.pk).exists()  # the delete was rolled back whole
    assert _references()["books"] == [first.pk] * 3
    _delete_by_sql(first.pk)  # the merge is over: the delete goes through
    assert _references()["books"] == [None] * 3


def test_a_shard_chunk_of_a_batch_no_longer_live_writes_nothing(card_codelists, settings, tmp_path):
    batch = _staged_batch(settings, tmp_path, [person(n) for n in range(1, 9)])
    lease = pipeline.uuid.uuid4()
    assert shards.shard_claim(batch_id=batch.pk, shard=0, lease=lease)
    CardBatch.objects.filter(pk=batch.pk).update(status=CardBatch.Status.FAILED)
    with pytest.raises(pipeline.LeaseLost):
        shards.shard_chunk(batch_id=batch.pk, shard=0, lease=lease, chunk_rows=4, scope=None)
    assert (InsuranceCard.objects.count(), HealthBook.objects.count()) == (0, 0)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # another session must see the batch
def test_a_shard_finishes_while_another_shard_holds_its_chunk_lock(card_codelists, settings, tmp_path):
    """The last chunk of a shard (empty: it marks the shard done and counts the others) locks the
    batch row while another shard's chunk holds it FOR KEY SHARE (_HOLD_BATCH, as here in another
    session). It must not wait for that chunk: two shards finishing together would each wait for
    the other (a deadlock, seen in the benchmark with a FOR UPDATE here)."""
    batch = _staged_batch(settings, tmp_path, [person(n) for n in range(1, 9)])
    assert shards.shard_run(batch_id=batch.pk, shard=0) == pipeline.DONE
    lease = pipeline.uuid.uuid4()
    assert shards.shard_claim(batch_id=batch.pk, shard=1, lease=lease)
    assert not shards.shard_chunk(batch_id=batch.pk, shard=1, lease=lease, chunk_rows=100, scope=None)
    run = CardBatchShard.objects.get(batch=batch, shard=1)
    assert run.rows_merged == run.rows_staged > 0  # what is left is the empty chunk that finishes
    with _other_session() as other_shard, other_shard.cursor() as cursor:
        cursor.execute(shards._HOLD_BATCH, {"batch": batch.pk, "live": list(CardBatch.LIVE)})
        with connection.cursor() as mine:
            mine.execute("SET lock_timeout = '2s'")
        try:
            assert shards.shard_chunk(batch_id=batch.pk, shard=1, lease=lease, chunk_rows=100, scope=None)
        finally:
            with connection.cursor() as mine:
                mine.execute("RESET lock_timeout")
        other_shard.rollback()
    batch.refresh_from_db()
    assert (batch.status, batch.rows_merged, batch.citizens_created) == ("done", 8, 8)
