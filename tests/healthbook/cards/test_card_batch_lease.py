"""R5: a batch is never run by two runs at once; a run presumed dead cannot write after a takeover.
The sweeper re-queues stale batches."""

import io
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from healthbook.cards import files, pipeline, runs
from healthbook.cards.services import card_batch_create
from healthbook.cards.tasks import card_batches_sweep_task
from healthbook.models import CardBatch, Citizen
from tests.healthbook.conftest import card_csv, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(card_codelists, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    data = card_csv([person(n) for n in range(1, 7)])
    return card_batch_create(acting_user=None, fh=io.BytesIO(data), name="c.csv").batch


def _chunk(batch, start, size):
    layout = files.FileLayout(
        file_format="csv",
        encoding="utf-8",
        delimiter=",",
        columns={int(k): v for k, v in batch.columns["positions"].items()},
        header_width=batch.columns["width"],
    )
    with batch.file.open("rb") as fh:
        rows = list(files.iter_rows(fh, layout, skip=start))[:size]
    return rows, pipeline.row_context_for(batch, layout)


def test_a_live_run_keeps_the_batch(proof, queued):
    row = proof.row("R5", "a redelivered task (visibility timeout passed) meets a batch whose run is alive")
    assert pipeline.batch_claim(batch_id=queued.pk, lease=uuid.uuid4())
    second_claim = pipeline.batch_claim(batch_id=queued.pk, lease=uuid.uuid4())
    outcome = runs.card_batch_run(batch_id=queued.pk)
    row.set(
        times=2,
        figure=f"second claim granted: {int(second_claim)}; redelivered run: {outcome} "
        f"(concurrent executions of the batch: {int(second_claim) + int(outcome != pipeline.BUSY)})",
    )
    assert not second_claim
    assert outcome == pipeline.BUSY


def test_run_presumed_dead_cannot_commit_after_takeover(proof, queued):
    row = proof.row(
        "R5",
        "a run presumed dead (heartbeat stale) tries to commit after another run took over; "
        "the same chunk committed twice",
    )
    first, second = uuid.uuid4(), uuid.uuid4()
    assert pipeline.batch_claim(batch_id=queued.pk, lease=first)
    rows, ctx = _chunk(queued, 0, 2)
    pipeline.chunk_commit(batch_id=queued.pk, lease=first, expected_read=0, chunk=rows, ctx=ctx)
    CardBatch.objects.filter(pk=queued.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert pipeline.batch_claim(batch_id=queued.pk, lease=second)
    more, _ = _chunk(queued, 2, 2)
    with pytest.raises(pipeline.LeaseLost):
        pipeline.chunk_commit(batch_id=queued.pk, lease=first, expected_read=2, chunk=more, ctx=ctx)
    pipeline.chunk_commit(batch_id=queued.pk, lease=second, expected_read=2, chunk=more, ctx=ctx)
    with pytest.raises(pipeline.LeaseLost):  # the same chunk twice: the counter moved
        pipeline.chunk_commit(batch_id=queued.pk, lease=second, expected_read=2, chunk=more, ctx=ctx)
    batch = CardBatch.objects.get(pk=queued.pk)
    row.set(
        times=2,
        figure=f"late commits refused 2/2 (LeaseLost); chunks applied twice 0: rows read "
        f"{batch.rows_read}/4, citizens {Citizen.objects.count()}/4",
    )
    assert (batch.rows_read, batch.rows_accepted, Citizen.objects.count()) == (4, 4, 4)


def test_sweeper_requeues_a_stale_running_batch_and_it_finishes(queued, django_capture_on_commit_callbacks):
    assert pipeline.batch_claim(batch_id=queued.pk, lease=uuid.uuid4())
    assert card_batches_sweep_task() == []
    CardBatch.objects.filter(pk=queued.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert card_batches_sweep_task() == [queued.pk]
    assert len(callbacks) == 1
    assert CardBatch.objects.get(pk=queued.pk).status == CardBatch.Status.QUEUED
    assert runs.card_batch_run(batch_id=queued.pk) == pipeline.DONE
    assert Citizen.objects.count() == 6


def test_time_budget_hands_the_batch_over(queued, settings):
    settings.CARD_IMPORT_CHUNK_ROWS = 2
    assert runs.card_batch_run(batch_id=queued.pk, budget_seconds=0) == pipeline.YIELDED
    batch = CardBatch.objects.get(pk=queued.pk)
    assert (batch.status, batch.rows_read, batch.lease) == (CardBatch.Status.QUEUED, 2, None)
    assert runs.card_batch_run(batch_id=queued.pk) == pipeline.DONE
    assert CardBatch.objects.get(pk=queued.pk).rows_read == 6


def test_a_batch_remembers_its_lines_when_another_batch_rewrote_the_card(card_codelists, settings, tmp_path):
    # Batch A merges its first chunk, batch B then renews the same person's card, then A's
    # second chunk carries the person again: A must still report its own earlier line.
    settings.MEDIA_ROOT = str(tmp_path / "media")
    a = card_batch_create(
        acting_user=None,
        name="a.csv",
        fh=io.BytesIO(card_csv([person(1), person(2), person(1, HO_TEN="Lê Thị Bốn"), person(3)])),
    ).batch
    lease = uuid.uuid4()
    assert pipeline.batch_claim(batch_id=a.pk, lease=lease)
    a = CardBatch.objects.get(pk=a.pk)
    if not a.columns:
        with a.file.open("rb") as fh:
            pipeline._layout(a, fh, lease)
        a = CardBatch.objects.get(pk=a.pk)
    rows, ctx = _chunk(a, 0, 2)
    pipeline.chunk_commit(batch_id=a.pk, lease=lease, expected_read=0, chunk=rows, ctx=ctx)
    b = card_batch_create(
        acting_user=None,
        name="b.csv",
        run_now=True,
        fh=io.BytesIO(card_csv([person(1, GT_THE_TU="20250601", GT_THE_DEN="20260531")])),
    ).batch
    assert CardBatch.objects.get(pk=b.pk).status == CardBatch.Status.DONE
    more, _ = _chunk(a, 2, 2)
    pipeline.chunk_commit(batch_id=a.pk, lease=lease, expected_read=2, chunk=more, ctx=ctx)
    problems = sorted((p.line, p.code) for p in a.problems.all())
    assert problems == [(2, "DUPLICATE_PERSON")]
    assert Citizen.objects.get(social_insurance_number="7900000001").full_name == "Lê Thị Bốn"
