"""Issue 19's story through the citizen API and the doctor's pages: the citizen closes the book,
a doctor is refused with the reason, the citizen issues a share code, a doctor at that facility
opens the book with it, the code expires, the citizen reads who opened it, asks for a copy and
downloads it once."""

import base64
import datetime as dt
import io
import json
import zipfile
from types import SimpleNamespace

import pytest
from django.utils import timezone, translation

from accesslog.models import AccessLogEntry, ActorKind
from accesslog.selectors import citizen_access_log
from healthbook.book import access
from healthbook.copies.jobs import copies_expire, copy_request_produce
from healthbook.copies.report import copy_requests_by_month
from healthbook.models import CopyRequest
from tests.healthbook.book import factories as df
from tests.healthbook.book.conftest import code_lists, patient_a  # noqa: F401 — fixtures

pytestmark = pytest.mark.django_db
API = "/api/citizen/v1"


def call(client, platform, person, method, path, body=None, **extra):
    headers = {**platform.header(person.personal_id), **extra}
    if method == "get":
        return client.get(API + path, **headers)
    return client.post(API + path, body or {}, content_type="application/json", **headers)


def test_the_whole_story(client, login, platform, patient_a, doctor_a, doctor_b, facility_a, monkeypatch):  # noqa: F811
    book_url = f"/doctor/books/{patient_a.book.public_id}/"
    login(doctor_a)
    assert client.get(book_url).status_code == 200

    # The citizen closes the book; the doctor (care relationship) is refused with the reason.
    closed = call(client, platform, patient_a, "post", "/consent/closures/")
    assert closed.status_code == 201 and closed.json()["live"] and closed.json()["facility"] is None
    refused = client.get(book_url)
    assert refused.status_code == 403
    assert "Công dân đã đóng sổ" in refused.content.decode()
    assert AccessLogEntry.objects.order_by("-seq").first().details == {"refused": "closed_by_citizen"}

    # The citizen issues a share code for facility A (text and QR code, once).
    issued = call(
        client, platform, patient_a, "post", "/consent/share-codes/", {"facility_code": "01001", "minutes": 60}
    )
    assert issued.status_code == 201, issued.content
    code = issued.json()["code"]
    assert "<svg" in issued.json()["qr_svg"]
    assert base64.b64decode(issued.json()["qr_png_base64"]).startswith(b"\x89PNG")

    # A doctor of facility B cannot use it; the doctor of facility A opens the book with it.
    client.logout()
    login(doctor_b)
    assert client.post(f"{book_url}share-code/", {"code": code}).status_code == 400
    client.logout()
    client.force_login(doctor_a)  # MFA already enrolled above
    opened = client.post(f"{book_url}share-code/", {"code": code})
    assert opened.status_code == 302 and opened["Location"] == book_url
    assert client.get(book_url).status_code == 200

    # The code expires: the book is closed to the doctor again (the decision's clock moves on;
    # the session's own clock does not).
    later = timezone.now() + dt.timedelta(minutes=61)
    clock = SimpleNamespace(now=lambda: later, localdate=timezone.localdate, localtime=timezone.localtime)
    with monkeypatch.context() as mp:
        mp.setattr(access, "timezone", clock)
        assert client.get(book_url).status_code == 403

    # The citizen reads who opened it: on the share code, and in the access log.
    codes = call(client, platform, patient_a, "get", "/consent/share-codes/").json()["share_codes"]
    assert [u["doctor"] for u in codes[0]["used_by"]] == [doctor_a.full_name or doctor_a.username]
    assert codes[0]["live"] is True  # (still within its hour now)
    log = call(client, platform, patient_a, "get", "/access-log/", HTTP_ACCEPT_LANGUAGE="vi").json()["people"]
    texts = [item["text"] for item in log]
    assert any("đã nhập mã chia sẻ của bạn" in t and item["allowed"] for t, item in zip(texts, log, strict=True))
    assert any("(bằng mã chia sẻ của bạn)" in t for t in texts)
    assert any("bạn đã đóng sổ" in t and not item["allowed"] for t, item in zip(texts, log, strict=True))
    assert all(doctor_a.full_name in t or doctor_b.full_name in t for t in texts)
    full = citizen_access_log(patient_a.pk)["people"]  # the selector's items also say why, by code
    assert any(item["event"] == "share_code" and item["allowed"] for item in full)
    assert any(item["refused"] == "closed_by_citizen" for item in full)

    # The citizen asks for a copy; the job makes it; it downloads once.
    asked = call(client, platform, patient_a, "post", "/copies/")
    assert asked.status_code == 202 and asked.json()["status"] == "pending"
    copy_id = asked.json()["id"]
    assert call(client, platform, patient_a, "get", f"/copies/{copy_id}/download/").status_code == 409
    copy_request_produce(CopyRequest.objects.get(public_id=copy_id).pk)
    ready = call(client, platform, patient_a, "get", f"/copies/{copy_id}/").json()
    assert ready["status"] == "ready" and ready["expires_at"]
    got = call(client, platform, patient_a, "get", f"/copies/{copy_id}/download/")
    assert got.status_code == 200 and got["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(got.content))
    bundle = json.loads(archive.read("sskdt-copy.json"))
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "Encounter"} <= kinds
    assert archive.read("sskdt-copy.pdf").startswith(b"%PDF")
    again = call(client, platform, patient_a, "get", f"/copies/{copy_id}/download/")
    assert again.status_code == 410 and again.json()["code"] == "copy_already_downloaded"
    row = CopyRequest.objects.get(public_id=copy_id)
    assert row.status == "downloaded" and row.content is None  # the bytes are gone after the download
    download_entries = AccessLogEntry.objects.filter(event="copy_download", citizen_id=patient_a.pk)
    assert [e.outcome for e in download_entries.order_by("seq")] == [4, 0, 4]
    assert {e.actor_kind for e in download_entries} == {ActorKind.CITIZEN}

    # The ministry's report counts it, with its handling time.
    month = copy_requests_by_month()[0]
    assert (month["requested"], month["downloaded"]) == (1, 1) and month["median"] is not None


def test_emergency_still_opens_a_closed_book_and_the_citizen_sees_it(
    client,
    login,
    platform,
    patient_a,  # noqa: F811
    doctor_a,
):
    call(client, platform, patient_a, "post", "/consent/closures/")
    login(doctor_a)
    book_url = f"/doctor/books/{patient_a.book.public_id}/"
    assert client.post(f"{book_url}emergency/", {"reason": "unconscious"}).status_code == 302
    assert client.get(book_url).status_code == 200
    with translation.override("vi"):
        log = citizen_access_log(patient_a.pk)["people"]
    assert log[0]["emergency"] and "khi sổ của bạn đang đóng" in log[0]["text"]


def test_one_citizen_cannot_touch_anothers_consent_or_copies(client, platform, patient_a, facility_a):  # noqa: F811
    other = df.citizen(name="Lê Văn Khác")
    closure = call(client, platform, patient_a, "post", "/consent/closures/", {"facility_code": "01001"}).json()
    assert call(client, platform, other, "post", f"/consent/closures/{closure['id']}/revoke/").status_code == 404
    assert call(client, platform, other, "get", "/consent/closures/").json() == {"closures": []}
    asked = call(client, platform, patient_a, "post", "/copies/").json()
    assert call(client, platform, other, "get", f"/copies/{asked['id']}/download/").status_code == 404
    # Reopening keeps the history.
    reopened = call(client, platform, patient_a, "post", f"/consent/closures/{closure['id']}/revoke/").json()
    assert reopened["live"] is False and reopened["reopened_by"]["channel"] == "vneid"


def test_no_staff_session_or_facility_key_reaches_the_endpoints(client, login, doctor_a, patient_a):  # noqa: F811
    login(doctor_a)
    for path in ("/consent/closures/", "/consent/share-codes/", "/copies/"):
        assert client.get(API + path).status_code in (401, 403)


def test_an_unclaimed_copy_expires(client, platform, patient_a, settings):  # noqa: F811
    asked = call(client, platform, patient_a, "post", "/copies/").json()
    row = copy_request_produce(CopyRequest.objects.get(public_id=asked["id"]).pk)
    CopyRequest.objects.filter(pk=row.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert copies_expire() == 1
    gone = call(client, platform, patient_a, "get", f"/copies/{asked['id']}/download/")
    assert gone.status_code == 410 and gone.json()["code"] == "copy_expired"
    assert CopyRequest.objects.get(pk=row.pk).content is None
    month = copy_requests_by_month()[0]
    assert month["expired"] == 1


def test_a_failed_copy_is_recorded_and_refused(client, platform, patient_a, monkeypatch):  # noqa: F811
    from healthbook.copies import jobs

    def broken(book):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(jobs, "copy_archive", broken)
    asked = call(client, platform, patient_a, "post", "/copies/").json()
    row = copy_request_produce(CopyRequest.objects.get(public_id=asked["id"]).pk)
    assert row.status == "failed" and row.failure == "RuntimeError" and row.finished_at
    refused = call(client, platform, patient_a, "get", f"/copies/{asked['id']}/download/")
    assert refused.status_code == 410 and refused.json()["code"] == "copy_failed"
    # A new request may be made after a failure.
    again = call(client, platform, patient_a, "post", "/copies/").json()
    assert again["id"] != asked["id"] and again["status"] == "pending"
    assert copy_requests_by_month()[0]["failed"] == 1
