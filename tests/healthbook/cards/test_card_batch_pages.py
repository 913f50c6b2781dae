"""Card batch pages and API: who may upload and see, progress fragment, rejected rows CSV."""

import io

import pytest
from django.urls import reverse

from healthbook.models import CardBatch
from tests.healthbook.conftest import card_csv, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path, card_codelists):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _upload(client, url, data: bytes, name="cards.csv"):
    f = io.BytesIO(data)
    f.name = name
    return client.post(url, {"file": f})


def test_ministry_admin_upload_queues_a_batch_and_shows_it(
    login, ministry_admin, media, django_capture_on_commit_callbacks
):
    client = login(ministry_admin)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _upload(client, reverse("card-batch-list"), card_csv([person(1)]))
    batch = CardBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("card-batch-detail", args=[batch.public_id])
    assert batch.status == CardBatch.Status.QUEUED
    assert len(callbacks) == 1  # the Celery task is sent on commit
    page = client.get(response["Location"])
    assert b'hx-trigger="every 1s"' in page.content


def test_refused_file_shows_the_reason_and_stores_nothing(login, ministry_admin, media):
    client = login(ministry_admin)
    response = _upload(client, reverse("card-batch-list"), b"HO_TEN,NGAY_SINH\r\nA,19850101\r\n")
    assert response.status_code == 400
    assert "MA_THE_BHYT" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert CardBatch.objects.count() == 0


@pytest.mark.parametrize("actor", ["doctor_a", "facility_admin_a", "ministry_editor", "outsider"])
def test_other_roles_may_not_import(login, actor, request, media):
    client = login(request.getfixturevalue(actor))
    assert client.get(reverse("card-batch-list")).status_code == 403
    assert _upload(client, reverse("api-card-batches"), card_csv([person(1)])).status_code == 403


def test_officer_sees_own_province_batches_only(login, import_file, officer_hanoi, officer_hcm):
    batch = import_file(card_csv([person(1)]), user=officer_hcm)
    assert login(officer_hcm).get(reverse("card-batch-detail", args=[batch.public_id])).status_code == 200
    client = login(officer_hanoi)
    assert client.get(reverse("card-batch-detail", args=[batch.public_id])).status_code == 404
    assert client.get(reverse("api-card-batch", args=[batch.public_id])).status_code == 404
    assert client.get(reverse("card-batch-rejected", args=[batch.public_id])).status_code == 404


def test_finished_progress_fragment_stops_polling(login, import_file, ministry_admin):
    batch = import_file(card_csv([person(1), person(2, GIOI_TINH="0")]))
    response = login(ministry_admin).get(reverse("card-batch-progress", args=[batch.public_id]))
    assert response.status_code == 200
    assert b"hx-trigger" not in response.content


def test_rejected_rows_download_as_csv(login, import_file, ministry_admin):
    batch = import_file(card_csv([person(1), person(2, GIOI_TINH="0")]))
    client = login(ministry_admin)
    for url in (
        reverse("card-batch-rejected", args=[batch.public_id]),
        reverse("api-card-batch-rejected", args=[batch.public_id]),
    ):
        body = b"".join(client.get(url).streaming_content).decode("utf-8-sig")
        lines = body.strip().split("\r\n")
        assert lines[0] == "line,column,value,code,reason"
        assert lines[1].startswith("3,GIOI_TINH,0,SEX_CODE,")


def test_batch_list_page_query_count_is_bounded(login, import_file, ministry_admin, django_assert_max_num_queries):
    for n in range(5):
        import_file(card_csv([person(n)]))
    client = login(ministry_admin)
    with django_assert_max_num_queries(16):
        assert client.get(reverse("card-batch-list")).status_code == 200


def test_api_upload_returns_202_then_the_same_file_200(login, ministry_admin, media):
    client = login(ministry_admin)
    data = card_csv([person(1)])
    first = _upload(client, reverse("api-card-batches"), data)
    assert first.status_code == 202
    assert first.json()["status"] == "queued"
    again = _upload(client, reverse("api-card-batches"), data)
    assert (again.status_code, again.json()["duplicate"], again.json()["id"]) == (200, True, first.json()["id"])
    detail = client.get(reverse("api-card-batch", args=[first.json()["id"]]))
    assert detail.json()["sha256"] == first.json()["sha256"]


def test_api_refusal_has_a_code(login, ministry_admin, media):
    response = _upload(login(ministry_admin), reverse("api-card-batches"), b"\xd0\xcf\x11\xe0" + b"\0" * 600)
    assert response.status_code == 400
    assert response.json()["code"] == "xls_not_supported"


def test_api_without_file_is_a_400(login, ministry_admin, media):
    response = login(ministry_admin).post(reverse("api-card-batches"), {})
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
