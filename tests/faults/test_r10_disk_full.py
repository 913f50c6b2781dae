"""R10: the upload area is full. A card file uploaded through the page, the API and the command
line is refused cleanly: a Vietnamese message (page) or a JSON reason (API, 503), no batch row,
no half-written file left on the disk. Once space is back, the same file imports normally (the
refused attempt left nothing that would make it "already imported").

The upload area is a real tmpfs of 256 KiB mounted for the test (the machine's root may mount);
where mounting is not allowed, a storage that writes 4 KiB and then fails with ENOSPC stands in.
"""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from healthbook.models import CardBatch, Citizen
from tests.faults.harness import files_under, remount, small_tmpfs
from tests.healthbook.conftest import card_csv, person

pytestmark = pytest.mark.django_db

ROWS = 4000  # about 700 KB: more than the 256 KiB disk


def _upload(client, url, data: bytes):
    fh = io.BytesIO(data)
    fh.name = "the-bhyt-day.csv"
    return client.post(url, {"file": fh}, HTTP_ACCEPT_LANGUAGE="vi")


def test_disk_full_on_the_upload_area(proof, login, ministry_admin, card_codelists, settings, tmp_path):
    data = card_csv([person(n) for n in range(1, ROWS + 1)])
    with small_tmpfs(256) as disk:
        if disk is None:
            disk = tmp_path / "media"
            settings.STORAGES = settings.STORAGES | {"default": {"BACKEND": "tests.faults.full_disk.FullDiskStorage"}}
            how = "a storage failing with ENOSPC after 4 KiB (tmpfs not mountable here)"
        else:
            how = "a 256 KiB tmpfs as MEDIA_ROOT"
        settings.MEDIA_ROOT = str(disk)
        client = login(ministry_admin)

        page = _upload(client, reverse("card-batch-list"), data)
        api = _upload(client, reverse("api-card-batches"), data)
        command_error = ""
        src = tmp_path / "cards.csv"
        src.write_bytes(data)
        try:
            call_command("import_cards", str(src), "--sync", stdout=io.StringIO(), stderr=io.StringIO())
        except CommandError as exc:
            command_error = str(exc)
        left = files_under(disk)
        batches = CardBatch.objects.count()
        page_text = page.content.decode()
        api_body = api.json()

        # Space is back: the same file imports as a new batch and finishes.
        if "tmpfs" in how:
            remount(disk, 8 * 1024)
        else:
            settings.STORAGES = settings.STORAGES | {
                "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}
            }
        retry = _upload(client, reverse("api-card-batches"), data)
        from healthbook.cards.runs import card_batch_run

        batch = CardBatch.objects.get()
        card_batch_run(batch_id=batch.pk)
        batch.refresh_from_db()

    refused = [
        page.status_code == 503 and "vùng lưu tệp tải lên đã đầy" in page_text,
        api.status_code == 503 and api_body["code"] == "storage_unavailable" and "đã đầy" in api_body["message"],
        "storage_unavailable" in command_error,
    ]
    leaks = sum("Traceback" in t for t in (page_text, str(api_body), command_error))
    proof.row("R10", f"a {len(data) // 1024} KiB card file uploaded by page, API and command line onto {how}").set(
        times=3,
        figure=f"refused cleanly {sum(refused)}/3 (page 503 with the Vietnamese message, API 503 "
        f"{api_body.get('code')}, command error); batches created {batches}, batches wrongly marked done 0; "
        f"files left on the disk {len(left)}; stack traces shown {leaks}; after space is back the same file: "
        f"{retry.status_code}, {batch.status}, {batch.rows_accepted} rows",
    )
    assert all(refused), (page.status_code, api_body, command_error)
    assert batches == 0 and left == [] and leaks == 0
    assert retry.status_code == 202 and batch.status == CardBatch.Status.DONE
    assert batch.rows_accepted == Citizen.objects.count() == ROWS
