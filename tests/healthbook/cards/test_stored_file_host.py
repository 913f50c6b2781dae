"""A card file is written by the host that received the upload and read by whichever worker host
runs the batch (issue 21, point 4): a worker whose storage is not the shared one fails the batch
with a reason for the uploader, never an error naming a path of another host."""

import io

from healthbook.cards import pipeline, runs
from healthbook.cards.services import card_batch_create
from healthbook.models import CardBatch
from tests.healthbook.conftest import card_csv, person


def test_a_worker_without_the_shared_storage_fails_the_batch_with_a_reason(card_codelists, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "web-host")  # the upload lands on the web host's storage
    batch = card_batch_create(acting_user=None, fh=io.BytesIO(card_csv([person(1)])), name="cards.csv").batch
    assert (tmp_path / "web-host" / batch.file.name).exists()

    settings.MEDIA_ROOT = str(tmp_path / "worker-host")  # a worker host with storage of its own
    settings.LANGUAGE_CODE = "vi"
    assert runs.card_batch_run(batch_id=batch.pk) == pipeline.FAILED

    batch = CardBatch.objects.get(pk=batch.pk)
    assert (batch.status, batch.failure_code, batch.rows_read) == ("failed", "stored_file_missing", 0)
    assert str(tmp_path) not in batch.failure_message and "/" not in batch.failure_message
    assert batch.failure_message.startswith("Dịch vụ nhập")

    settings.MEDIA_ROOT = str(tmp_path / "web-host")  # shared again: a new upload is imported
    again = card_batch_create(acting_user=None, fh=io.BytesIO(card_csv([person(2)])), name="b.csv").batch
    assert runs.card_batch_run(batch_id=again.pk) == pipeline.DONE
